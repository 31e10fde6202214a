"""Every API error is JSON with a message a person can act on, whichever layer raised it."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from classifier.model_gateway import ModelUnavailable


class ClassifierUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The classifier is not available."
    default_code = "model_unavailable"


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
    return exc


def json_exception_handler(exc, context):
    return exception_handler(_as_api_exception(exc), context)


def page_not_found(request, exception):
    """Django's 404 handler: unknown /api/ addresses answer in JSON like every other API error."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"No API endpoint at {request.path}. The endpoints are listed at /api/docs/."},
                            status=404)
    return defaults.page_not_found(request, exception)
