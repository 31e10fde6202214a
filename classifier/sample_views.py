"""Thin views of the lab workflow: samples, their batch upload, differential, review grid and exports."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classifier import exports, selectors, services
from classifier.model_service import ModelUnavailable
from classifier.models import CLASS_CHOICES
from classifier.sample_forms import SampleForm, SampleUploadForm

REVIEW_PERMISSION = "classifier.review_prediction"
UPLOAD_CHUNK_FILES = 16  # files per request sent by the JS uploader: progress moves, requests stay small
ZIP_SPOOL_BYTES = 64 * 1024 * 1024


def _wants_json(request) -> bool:
    """The JS uploader and review grid ask for JSON; plain form posts (no JS) get pages."""
    return request.headers.get("Accept", "").startswith("application/json")


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _download_name(sample, suffix: str) -> str:
    return f"sample-{slugify(sample.identifier) or sample.pk}{suffix}"


@login_required
@require_http_methods(["GET", "POST"])
def sample_list(request):
    form = SampleForm(request.POST) if request.method == "POST" else SampleForm()
    if form.is_bound and form.is_valid():
        try:
            sample = services.sample_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Sample {sample.identifier} created: add its cell images.")
            return redirect("classifier:sample_detail", pk=sample.pk)
    status = 400 if form.is_bound else 200
    return render(request, "classifier/samples/list.html",
                  {"form": form, "samples": selectors.sample_list_with_counts(user=request.user)}, status=status)


def _sample_page_context(request, sample) -> dict:
    differential = selectors.sample_differential(sample=sample)
    return {
        "sample": sample,
        "differential": differential,
        "total": sum(row.count for row in differential),
        "upload_form": SampleUploadForm(),
        "can_upload": sample.owner_id == request.user.pk and not sample.is_verified,
        "can_review": request.user.has_perm(REVIEW_PERMISSION),
        "chunk_files": UPLOAD_CHUNK_FILES,
        "model_versions": selectors.sample_model_versions(sample=sample),
    }


@login_required
@require_GET
def sample_detail(request, pk: int):
    sample = selectors.sample_get_with_counts(user=request.user, pk=pk)
    return render(request, "classifier/samples/detail.html", _sample_page_context(request, sample))


def _upload_answer(request, sample, *, created: int, failures: list, status: int = 200, error: str = ""):
    """JSON for the JS uploader; messages and a redirect back to the sample page for a plain form post."""
    if _wants_json(request):
        return JsonResponse({"created": created, "error": error,
                             "failures": [{"filename": item.filename, "reason": item.reason} for item in failures]},
                            status=status)
    if error:
        messages.error(request, error)
    for failure in failures:
        messages.error(request, f"Not classified: {failure.reason}")
    if created:
        messages.success(request, f"{created} image(s) classified and added to sample {sample.identifier}.")
    return redirect("classifier:sample_detail", pk=sample.pk)


@login_required
@require_POST
def sample_upload(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    form = SampleUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_answer(request, sample, created=0, failures=[], status=400,
                              error=" ".join(form.errors.get("images", ["The upload was not understood."])))
    try:
        predictions, failures = services.prediction_create_many(owner=request.user, sample=sample,
                                                                uploads=form.cleaned_data["images"])
    except ModelUnavailable as error:
        return _upload_answer(request, sample, created=0, failures=[], status=503,
                              error=f"The classifier is not available: {error}")
    except ValidationError as error:
        return _upload_answer(request, sample, created=0, failures=[], status=400, error=_error_text(error))
    if not predictions and not failures:
        return _upload_answer(request, sample, created=0, failures=[], status=400,
                              error="Nothing to classify: the upload held no images.")
    return _upload_answer(request, sample, created=len(predictions), failures=failures,
                          status=200 if predictions else 400)


@login_required
@require_GET
def sample_review_grid(request, pk: int):
    sample = selectors.sample_get_with_counts(user=request.user, pk=pk)
    only_flagged = request.GET.get("needs_review") == "1"
    predictions = selectors.sample_predictions(sample=sample, needs_review=True if only_flagged else None)
    can_review = request.user.has_perm(REVIEW_PERMISSION) and not sample.is_verified
    return render(request, "classifier/samples/review.html", {
        "sample": sample, "predictions": predictions, "only_flagged": only_flagged, "can_review": can_review,
        "classes": [(index, name, label) for index, (name, label) in enumerate(CLASS_CHOICES, start=1)],
    })


def _review_state(prediction) -> dict:
    return {
        "id": prediction.pk,
        "reviewed_label": prediction.reviewed_label,
        "reviewed_label_display": prediction.get_reviewed_label_display(),
        "final_label": prediction.final_label,
        "reviewed_by": prediction.reviewed_by.get_username() if prediction.reviewed_by_id else "",
        "reviewed_at": prediction.reviewed_at.isoformat() if prediction.reviewed_at else "",
    }


@login_required
@require_POST
def prediction_review(request, pk: int, prediction_pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    prediction = selectors.sample_prediction_get(sample=sample, pk=prediction_pk)
    try:
        services.prediction_review(prediction=prediction, reviewer=request.user, label=request.POST.get("label", ""))
    except PermissionDenied as error:
        status, message = 403, str(error)
    except ValidationError as error:
        status, message = 400, _error_text(error)
    else:
        status, message = 200, f"Reviewed {prediction.original_filename}: {prediction.get_reviewed_label_display()}."
    if _wants_json(request):
        pending = selectors.sample_get_with_counts(user=request.user, pk=pk).pending_count
        return JsonResponse({**_review_state(prediction), "message": message, "pending_count": pending},
                            status=status)
    (messages.success if status == 200 else messages.error)(request, message)
    return redirect(f"{reverse('classifier:sample_review', args=[sample.pk])}#cell-{prediction.pk}")


@login_required
@require_POST
def sample_verify(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    try:
        services.sample_verify(sample=sample, reviewer=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Sample {sample.identifier} is verified.")
    return redirect("classifier:sample_detail", pk=sample.pk)


@login_required
@require_GET
def sample_csv(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(sample, ".csv")}"'
    exports.predictions_csv_write(selectors.sample_predictions(sample=sample), response)
    return response


@login_required
@require_GET
def history_csv(request):
    """The history with the same filters as the history page, all pages at once."""
    prediction_filter = selectors.prediction_filter(user=request.user, params=request.GET)
    if not prediction_filter.is_valid():
        return HttpResponse("Some filters were not understood: check the dates.", status=400,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="predictions-{timezone.now():%Y%m%d-%H%M}.csv"'
    exports.predictions_csv_write(prediction_filter.qs, response)
    return response


@login_required
@require_GET
def sample_pdf(request, pk: int):
    sample = selectors.sample_get_with_counts(user=request.user, pk=pk)
    pdf = exports.sample_report_pdf(sample=sample, differential=selectors.sample_differential(sample=sample),
                                    model_versions=selectors.sample_model_versions(sample=sample),
                                    generated_at=timezone.now())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_download_name(sample, ".pdf")}"'
    return response


@login_required
@require_GET
def sample_dataset(request, pk: int):
    """Reviewed images as training data (``TRAIN/<CLASS>/``), for reviewers: corrections feed the next run."""
    sample = selectors.sample_get(user=request.user, pk=pk)
    if not request.user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Only reviewers can export reviewed images as a dataset.")
    archive = tempfile.SpooledTemporaryFile(max_size=ZIP_SPOOL_BYTES)
    exports.reviewed_dataset_zip_write(selectors.sample_reviewed_predictions(sample=sample), archive)
    archive.seek(0)
    return FileResponse(archive, as_attachment=True, filename=_download_name(sample, "-reviewed-dataset.zip"),
                        content_type="application/zip")
