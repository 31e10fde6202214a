"""Downloads: the history and a sample as CSV, the sample's PDF report, and its reviewed images as a dataset."""

from __future__ import annotations

import logging
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from classifier import exports, model_gateway, selectors, services
from classifier.models import REVIEW_PERMISSION

ZIP_SPOOL_BYTES = 64 * 1024 * 1024
logger = logging.getLogger("hematovision.errors")


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


def _cell_crop(prediction) -> bytes | None:
    """The cell's crop for the report's gallery; None (a blank square) where its image cannot be read."""
    try:
        return services.prediction_cell_crop(prediction=prediction)
    except (model_gateway.ImageError, OSError):
        logger.warning("No cell crop for prediction %s in the report: its image could not be read.", prediction.pk)
        return None


@login_required
@require_GET
def sample_pdf(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    gallery = selectors.sample_gallery(sample=sample)
    crops = {prediction.pk: _cell_crop(prediction) for group in gallery for prediction in group.predictions}
    pdf = exports.sample_report_pdf(report=selectors.sample_report(sample=sample), gallery=gallery, crops=crops,
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
