"""Site-wide error answers: every API error is JSON with a ``detail`` a person can act on, whichever layer raised
it; the web pages get the styled error templates (``templates/400.html`` … ``500.html``). Django's error handlers,
the CSRF failure view and DRF's exception handler are all here."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from classifier.model_gateway import ModelUnavailable

logger = logging.getLogger("hematovision.errors")
SERVER_ERROR = "Something went wrong on the server; it has been logged. Try again, or tell an administrator."
# What the database and the file storage raise when they are down, locked, full or unwritable.
BACKEND_ERRORS = (OperationalError, InterfaceError, OSError)
BACKEND_UNAVAILABLE_PAGE = (
    "The database or the file storage is not available right now, so this could not be done. Nothing was left "
    "half-saved: what this request stored is complete, the rest was not stored. Try again in a moment; a sample's "
    "images already stored are skipped when sent again."
)


class ClassifierUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The classifier is not available."
    default_code = "model_unavailable"


class BackendUnavailable(exceptions.APIException):
    """The database or the file storage failed (locked, full, unwritable): worth trying again later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database or the file storage is not available right now; try again in a moment."
    default_code = "backend_unavailable"


def _validation_detail(error: DjangoValidationError) -> dict:
    """Field errors stay under their field; errors about the whole object go under ``detail``."""
    if not hasattr(error, "error_dict"):
        return {"detail": " ".join(error.messages)}
    detail = {}
    for field, messages in error.message_dict.items():
        key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
        detail[key] = messages
    return detail


def _as_api_exception(exc: Exception) -> Exception:
    """The domain's exceptions in DRF's terms (DRF itself already maps Http404 and PermissionDenied)."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_validation_detail(exc))
    if isinstance(exc, ModelUnavailable):
        return ClassifierUnavailable(f"The classifier is not available: {exc}")
    if isinstance(exc, BACKEND_ERRORS):
        logger.error("API request failed on the database or storage", exc_info=exc)
        return BackendUnavailable()
    return exc


def json_exception_handler(exc, context):
    return exception_handler(_as_api_exception(exc), context)


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def _error_answer(request, status_code: int, message: str, template: str):
    if is_api_request(request):
        return JsonResponse({"detail": message}, status=status_code)
    return render(request, template, {"message": message}, status=status_code)


def bad_request(request, exception):
    """Django's 400 handler, which also meets a body over Django's size limit (413) and too many files."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        return _error_answer(
            request,
            413,
            f"The request body is over the limit of {limit:.1f} MB (files apart); send less at once.",
            "400.html",
        )
    if isinstance(exception, TooManyFilesSent):
        limit = settings.HEMATOVISION_MAX_FILES_PER_UPLOAD
        return _error_answer(
            request,
            400,
            f"This upload holds more than {limit} files; at most {limit} files per "
            "upload. Send them in several uploads.",
            "400.html",
        )
    return _error_answer(request, 400, "The request was not understood.", "400.html")


def permission_denied(request, exception):
    if is_api_request(request):
        return JsonResponse({"detail": str(exception) or "You do not have permission to do this."}, status=403)
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: the styled 403 page, with the site's layout, instead of Django's bare one."""
    message = (
        "This form could not be accepted: it was open too long, the page was opened before you logged in or "
        "out, or cookies are blocked. Go back, reload the page and try again."
    )
    return _error_answer(request, 403, message, "403.html")


def page_not_found(request, exception):
    """Django's 404 handler: unknown /api/ addresses answer in JSON like every other API error."""
    if is_api_request(request):
        return JsonResponse(
            {"detail": f"No API endpoint at {request.path}. The endpoints are listed at /api/docs/."}, status=404
        )
    return defaults.page_not_found(request, exception)


def backend_unavailable(request, exception: Exception) -> HttpResponse:
    """The styled 503 page for a web page whose database or storage failed (``BackendUnavailableMiddleware``).

    When the database cannot even say who is logged in, the page is drawn without the request (no navigation,
    no messages), rather than failing again into a bare 500."""
    logger.error("Page %s failed on the database or storage", request.path, exc_info=exception)
    context = {"message": BACKEND_UNAVAILABLE_PAGE}
    try:
        return render(request, "503.html", context, status=503)
    except BACKEND_ERRORS:
        return HttpResponse(render_to_string("503.html", context), status=503)


def server_error(request):
    if is_api_request(request):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    return defaults.server_error(request)
