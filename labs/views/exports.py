"""A sample's downloads: its CSV, its PDF report (signed revisions as stored, else preliminary), and its reviewed
images as a dataset. None of them writes."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from classifier import exports as prediction_exports
from classifier.models import REVIEW_PERMISSION
from labs import differential, exports, report_pdf, selectors

ZIP_SPOOL_BYTES = 64 * 1024 * 1024


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


def _revision_response(sample, revision) -> FileResponse:
    """A signed report exactly as stored at its verification."""
    return FileResponse(
        revision.pdf.open("rb"),
        content_type="application/pdf",
        filename=_download_name(sample, f"-report-revision-{revision.number}.pdf"),
    )


@login_required
@require_GET
def sample_pdf(request, pk: int):
    """A verified sample's signed report as stored; any other print is preliminary, rendered now."""
    sample = selectors.sample_get(user=request.user, pk=pk)
    revision = selectors.sample_revision_in_force(sample=sample)
    if revision is not None:
        return _revision_response(sample, revision)
    pdf = report_pdf.sample_pdf_render(report=differential.sample_report(sample=sample), generated_at=timezone.now())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_download_name(sample, ".pdf")}"'
    return response


@login_required
@require_GET
def sample_revision_pdf(request, pk: int, number: int):
    """Any signed revision of the report, withdrawn ones included, byte for byte as it was signed."""
    sample = selectors.sample_get(user=request.user, pk=pk)
    return _revision_response(sample, selectors.sample_revision_get(sample=sample, number=number))


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
