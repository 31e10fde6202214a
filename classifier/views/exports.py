"""Downloads: the history and a sample as CSV, the sample's PDF report, and its reviewed images as a dataset."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from classifier import exports, selectors
from classifier.models import REVIEW_PERMISSION

ZIP_SPOOL_BYTES = 64 * 1024 * 1024


def _download_name(sample, suffix: str) -> str:
    return f"sample-{slugify(sample.identifier) or sample.pk}{suffix}"


def _csv_response(predictions, filename: str, waiting=()) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    exports.predictions_csv_write(predictions, response, waiting=waiting)
    return response


@login_required
@require_GET
def history_csv(request):
    """The history with the same filters as the history page, all pages at once."""
    prediction_filter = selectors.prediction_filter(user=request.user, params=request.GET)
    if not prediction_filter.is_valid():
        return HttpResponse("Some filters were not understood: check the dates.", status=400,
                            content_type="text/plain; charset=utf-8")
    return _csv_response(prediction_filter.qs, f"predictions-{timezone.now():%Y%m%d-%H%M}.csv")


@login_required
@require_GET
def sample_csv(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    return _csv_response(selectors.sample_predictions(sample=sample), _download_name(sample, ".csv"),
                         waiting=selectors.sample_waiting_images(sample=sample))


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
