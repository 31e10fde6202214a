"""Read-side builders of downloads: predictions as CSV, the private image files and the cell crops.

They take rows a selector has already limited to what the user may see, and never decide access themselves.
"""

from __future__ import annotations

import csv

from django.http import FileResponse, HttpResponse

from classifier import model_gateway
from classifier.models import LABEL_NAMES

CSV_HEADER = [
    "file_name",
    "sample",
    "predicted_label",
    "reviewed_label",
    "final_label",
    "counted",
    *[f"probability_{name}" for name in LABEL_NAMES],
    "needs_review",
    "review_reasons",
    "model_version",
    "model_sha256",
    "created_at",
    "reviewed_at",
    "reviewer",
    "status",
    "exclusion_reason",
]
SHA256_PREFIX = 12
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula (file names come from users)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


def _probability(prediction, name: str) -> str:
    """Empty where the model had no such output (the other kinds, for a model of the four classes only)."""
    value = prediction.probabilities.get(name)
    return "" if value is None else f"{float(value):.6f}"


def _csv_row(prediction) -> list:
    version = prediction.model_version
    return [
        _cell(prediction.original_filename),
        _cell(prediction.sample.identifier if prediction.sample_id else ""),
        prediction.predicted_label,
        prediction.reviewed_label,
        prediction.reported_label,  # empty for an image not recognised (nor reviewed) and for an excluded cell
        "yes" if prediction.counted else "no",
        *[_probability(prediction, name) for name in LABEL_NAMES],
        "yes" if prediction.needs_review else "no",
        ";".join(prediction.review_reasons),
        _cell(version.name),
        version.sha256[:SHA256_PREFIX],
        _iso(prediction.created_at),
        _iso(prediction.reviewed_at),
        _cell(prediction.reviewed_by.get_username() if prediction.reviewed_by_id else ""),
        "excluded" if prediction.excluded else "classified",  # an excluded cell is not in the differential
        _cell(prediction.exclusion_reason),
    ]


def _waiting_row(pending) -> list:
    """An image stored but not classified yet: listed, so a partly classified sample never passes for complete."""
    known = {
        "file_name": _cell(pending.original_filename),
        "sample": _cell(pending.sample.identifier),
        "created_at": _iso(pending.created_at),
        "status": "waiting",
    }
    return [known.get(column, "") for column in CSV_HEADER]


def predictions_csv_write(predictions, out, *, waiting=()) -> None:
    """Write one CSV row per prediction to ``out`` (a text stream or an HttpResponse), then one per ``waiting``
    image (``labs.selectors.sample_waiting_images``), whose status says it is not classified yet."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    rows = predictions.select_related("model_version", "reviewed_by", "sample").iterator(chunk_size=500)
    writer.writerows(_csv_row(prediction) for prediction in rows)
    writer.writerows(_waiting_row(pending) for pending in waiting)


def predictions_csv_response(predictions, filename: str, waiting=()) -> HttpResponse:
    """The CSV of ``predictions_csv_write`` as a download named ``filename``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    predictions_csv_write(predictions, response, waiting=waiting)
    return response


def private_file_response(field, *, content_type: str | None = None, filename: str | None = None) -> FileResponse:
    """Uploaded images are private: served only to their owner (and staff), never from a public URL."""
    response = FileResponse(
        field.open("rb"), as_attachment=filename is not None, filename=filename, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"  # shared lab computers: no copy stays in the browser
    return response


def prediction_file_response(prediction, variant: str) -> FileResponse:
    """The JPEG preview shown inline, or the uploaded original as a download under the client's file name."""
    if variant == "preview":
        return private_file_response(prediction.preview)
    return private_file_response(prediction.image, filename=prediction.original_filename)


def cell_crop_jpeg(prediction) -> bytes:
    """The crop around the located cell, made when the cell was classified; for a cell classified before crops were
    stored, made now from its image and not stored (a page or report that reads never writes)."""
    field = prediction.cell_crop if prediction.cell_crop else prediction.image
    with field.open("rb") as handle:
        data = handle.read()
    return data if prediction.cell_crop else model_gateway.cell_crop(model_gateway.decode(data)).jpeg
