"""A sample's downloads: its CSV, its PDF report, and its reviewed images as a dataset. None of them writes."""

from __future__ import annotations

import logging
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from classifier import exports as prediction_exports
from classifier import model_gateway
from classifier.models import REVIEW_PERMISSION
from labs import differential, exports, report_pdf, selectors

ZIP_SPOOL_BYTES = 64 * 1024 * 1024
logger = logging.getLogger("hematovision.errors")


def _download_name(sample, suffix: str) -> str:
    return f"sample-{slugify(sample.identifier) or sample.pk}{suffix}"


@login_required
@require_GET
def sample_csv(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    return prediction_exports.predictions_csv_response(
        selectors.sample_predictions(sample=sample),
        _download_name(sample, ".csv"),
        waiting=selectors.sample_waiting_images(sample=sample),
    )


def _cell_crop(prediction) -> bytes | None:
    """The cell's crop for the report's gallery; None (a blank square) where its image cannot be read."""
    try:
        return prediction_exports.cell_crop_jpeg(prediction)
    except (model_gateway.ImageError, OSError):
        logger.warning("No cell crop for prediction %s in the report: its image could not be read.", prediction.pk)
        return None


@login_required
@require_GET
def sample_pdf(request, pk: int):
    sample = selectors.sample_get(user=request.user, pk=pk)
    gallery = differential.sample_gallery(sample=sample)
    crops = {prediction.pk: _cell_crop(prediction) for group in gallery for prediction in group.predictions}
    pdf = report_pdf.sample_report_pdf(
        report=differential.sample_report(sample=sample), gallery=gallery, crops=crops, generated_at=timezone.now()
    )
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
    return FileResponse(
        archive,
        as_attachment=True,
        filename=_download_name(sample, "-reviewed-dataset.zip"),
        content_type="application/zip",
    )
