"""Read-side builders of downloads: CSV of predictions, the PDF sample report, the reviewed-images dataset ZIP
and the private image files.

They take rows a selector has already limited to what the user may see, and never decide access themselves.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import PurePath
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from django.http import FileResponse

from classifier.models import CLASS_NAMES, NOTES_MAX_LENGTH

CSV_HEADER = ["file_name", "sample", "predicted_label", "reviewed_label", "final_label",
              *[f"probability_{name}" for name in CLASS_NAMES], "needs_review", "review_reasons",
              "model_version", "model_sha256", "created_at", "reviewed_at", "reviewer", "status"]
SHA256_PREFIX = 12
DATASET_SPLIT = "TRAIN"
DISCLAIMER = ("Machine pre-classification for laboratory support only. Results must be reviewed and "
              "verified by a qualified person before any clinical use.")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNBROKEN_RUN = re.compile(r"(\S{80})(?=\S)")  # the PDF breaks lines only at spaces


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula (file names come from users)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


def _csv_row(prediction) -> list:
    version = prediction.model_version
    return [
        _cell(prediction.original_filename),
        _cell(prediction.sample.identifier if prediction.sample_id else ""),
        prediction.predicted_label,
        prediction.reviewed_label,
        prediction.final_label,
        *[f"{float(prediction.probabilities.get(name, 0.0)):.6f}" for name in CLASS_NAMES],
        "yes" if prediction.needs_review else "no",
        ";".join(prediction.review_reasons),
        _cell(version.name),
        version.sha256[:SHA256_PREFIX],
        _iso(prediction.created_at),
        _iso(prediction.reviewed_at),
        _cell(prediction.reviewed_by.get_username() if prediction.reviewed_by_id else ""),
        "classified",
    ]


def _waiting_row(pending) -> list:
    """An image stored but not classified yet: listed, so a partly classified sample never passes for complete."""
    known = {"file_name": _cell(pending.original_filename), "sample": _cell(pending.sample.identifier),
             "created_at": _iso(pending.created_at), "status": "waiting"}
    return [known.get(column, "") for column in CSV_HEADER]


def predictions_csv_write(predictions, out, *, waiting=()) -> None:
    """Write one CSV row per prediction to ``out`` (a text stream or an HttpResponse), then one per ``waiting``
    image (``selectors.sample_waiting_images``), whose status says it is not classified yet."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    rows = predictions.select_related("model_version", "reviewed_by", "sample").iterator(chunk_size=500)
    writer.writerows(_csv_row(prediction) for prediction in rows)
    writer.writerows(_waiting_row(pending) for pending in waiting)


def _dataset_member_name(prediction, used: set[str]) -> str:
    """``TRAIN/<final label>/<original name>``; a repeated name gets the prediction id so none is lost."""
    folder = f"{DATASET_SPLIT}/{prediction.final_label}"
    name = PurePath(prediction.original_filename).name
    member = f"{folder}/{name}"
    if member in used:
        path = PurePath(name)
        member = f"{folder}/{path.stem}-{prediction.pk}{path.suffix}"
    used.add(member)
    return member


def reviewed_dataset_zip_write(predictions, out) -> None:
    """A ZIP in the ``TRAIN/<CLASS>/`` layout ``train_model`` reads, holding the original images.

    Every class folder is present, even empty, because the dataset reader expects all four.
    """
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in CLASS_NAMES:
            archive.writestr(f"{DATASET_SPLIT}/{name}/", b"")
        for prediction in predictions:
            with prediction.image.open("rb") as image:
                archive.writestr(_dataset_member_name(prediction, used), image.read())


def private_file_response(field, *, content_type: str | None = None, filename: str | None = None) -> FileResponse:
    """Uploaded images are private: served only to their owner (and staff), never from a public URL."""
    response = FileResponse(field.open("rb"), as_attachment=filename is not None, filename=filename,
                            content_type=content_type)
    response["Cache-Control"] = "private, no-store"  # shared lab computers: no copy stays in the browser
    return response


def prediction_file_response(prediction, variant: str) -> FileResponse:
    """The JPEG preview shown inline, or the uploaded original as a download under the client's file name."""
    if variant == "preview":
        return private_file_response(prediction.preview)
    return private_file_response(prediction.image, filename=prediction.original_filename)


def _paragraph(text: str, style) -> Paragraph:
    return Paragraph(escape(text), style)


def _notes_text(notes: str) -> str:
    """The notes as the report prints them: at most ``NOTES_MAX_LENGTH`` characters (rows older than that limit
    may hold more), with a break allowed every 80 characters of an unbroken run, so layout time stays bounded."""
    if len(notes) > NOTES_MAX_LENGTH:
        notes = f"{notes[:NOTES_MAX_LENGTH]}… (cut at {NOTES_MAX_LENGTH} characters)"
    return _UNBROKEN_RUN.sub(r"\1 ", notes) or "(none)"


def _differential_table(differential) -> Table:
    rows = [["Cell type", "Count", "%", "Reference %", "Flag"]]
    rows += [[row.label, str(row.count), f"{row.percent:.1f}", f"{row.reference_low:g}–{row.reference_high:g}",
              row.flag.upper()] for row in differential]
    rows.append(["Total", str(sum(row.count for row in differential)), "", "", ""])
    table = Table(rows, colWidths=[45 * mm, 22 * mm, 22 * mm, 32 * mm, 22 * mm], hAlign="LEFT")
    style = [("FONT", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONT", (0, -1), (-1, -1), "Helvetica-Bold"),
             ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black), ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
             ("ALIGN", (1, 0), (-1, -1), "RIGHT")]
    style += [("TEXTCOLOR", (4, index), (4, index), colors.HexColor("#b42318"))
              for index, row in enumerate(differential, start=1) if row.flag]
    table.setStyle(TableStyle(style))
    return table


def _counts_text(sample) -> str:
    return (f"{sample.image_count} cell image(s); {sample.flagged_count} flagged for review, "
            f"{sample.pending_count} of them not reviewed yet.")


def sample_report_pdf(*, sample, differential, model_versions, generated_at) -> bytes:
    """A one-page printable report: the differential against reference intervals, sign-off and model.

    ``sample`` comes from ``selectors.sample_get_with_counts`` (it carries the image and flag counts).
    """
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    story = [
        _paragraph(f"White-cell differential: sample {sample.identifier}", styles["Title"]),
        _paragraph(f"Notes: {_notes_text(sample.notes)}", body),
        _paragraph(_counts_text(sample), body),
        Spacer(1, 4 * mm),
        _differential_table(differential),
        Spacer(1, 4 * mm),
        _paragraph("Counts use the reviewer's label wherever a cell was reviewed. Flags: LOW or HIGH outside the "
                   "adult reference interval (its edges count as inside).", body),
    ]
    if sample.is_verified:
        verified = f"Verified by {sample.verified_by.get_username()} at {_iso(sample.verified_at)}."
    else:
        verified = "NOT VERIFIED: this differential has not been signed off by a reviewer."
    story.append(_paragraph(verified, styles["Heading3"]))
    for version in model_versions:
        story.append(_paragraph(f"Model: {version.name}, sha256 {version.sha256}", body))
    story += [_paragraph(f"Generated at {_iso(generated_at)}.", body), Spacer(1, 6 * mm),
              _paragraph(DISCLAIMER, styles["Italic"])]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"Sample {sample.identifier}", author="HematoVision",
                                 leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
    document.build(story)
    return buffer.getvalue()

