"""The PDF sample report a laboratory files: lab, report number, the differential against reference intervals
with a chart, review counts, sign-off and a signature line, the model, and every cell's crop by class.

A verified sample's report is signed: rendered once at its verification and stored (``services.sign_off``), with
its revision in the number and, when it replaces a withdrawn one, "Amended" and that history. Any other print is
preliminary: a band on every page and no signature block."""

from __future__ import annotations

import io
import logging
import re
from xml.sax.saxutils import escape

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch, mm
from reportlab.platypus import Image as RLImage
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from classifier import exports as prediction_exports
from classifier import model_gateway
from classifier.exports import SHA256_PREFIX
from classifier.templatetags.hematovision import lab_time, person
from labs import differential
from labs.models import NOTES_MAX_LENGTH
from labs.report_gallery import gallery_story, paragraph

DISCLAIMER = (
    "Machine pre-classification for laboratory support only. Results must be reviewed and "
    "verified by a qualified person before any clinical use."
)
FLAG_COLOUR = colors.HexColor("#b42318")
WARNING_COLOUR = colors.HexColor("#b54708")
CHART_WIDTH, CHART_HEIGHT, CHART_DPI = 150 * mm, 45 * mm, 200
_UNBROKEN_RUN = re.compile(r"(\S{80})(?=\S)")  # the PDF breaks lines only at spaces
PRELIMINARY_BAND = "PRELIMINARY — NOT VERIFIED"
BAND_COLOUR = colors.HexColor("#b54708")
BAND_HEIGHT = 8 * mm  # inside the top margin, above the text
logger = logging.getLogger("hematovision.errors")


def _notes_text(notes: str) -> str:
    """The notes as the report prints them: at most ``NOTES_MAX_LENGTH`` characters (rows older than that limit
    may hold more), with a break allowed every 80 characters of an unbroken run, so layout time stays bounded."""
    if len(notes) > NOTES_MAX_LENGTH:
        notes = f"{notes[:NOTES_MAX_LENGTH]}… (cut at {NOTES_MAX_LENGTH} characters)"
    return _UNBROKEN_RUN.sub(r"\1 ", notes) or "(none)"


def _differential_table(differential, counted: int) -> Table:
    rows = [["Cell type", "Count", "%", "Reference %", "Flag"]]
    rows += [
        [
            row.label,
            str(row.count),
            f"{row.percent:.1f}",
            f"{row.reference_low:g}–{row.reference_high:g}",
            {"low": "LOW", "high": "HIGH"}.get(row.flag, ""),
        ]
        for row in differential
    ]
    rows.append(["Total", str(counted), "100.0", "", ""])
    table = Table(rows, colWidths=[45 * mm, 22 * mm, 22 * mm, 32 * mm, 22 * mm], hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONT", (0, -1), (-1, -1), "Helvetica-Bold"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]
    style += [
        ("TEXTCOLOR", (4, index), (4, index), FLAG_COLOUR)
        for index, row in enumerate(differential, start=1)
        if row.flag
    ]
    table.setStyle(TableStyle(style))
    return table


def _differential_chart_png(differential) -> bytes:
    """Horizontal bars of each class's share over its reference interval (shaded), flagged bars in red."""
    figure = Figure(figsize=(CHART_WIDTH / inch, CHART_HEIGHT / inch), dpi=CHART_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.16, 0.2, 0.8, 0.76))
    positions = range(len(differential))[::-1]  # the table's order, top to bottom
    for position, row in zip(positions, differential, strict=True):
        axes.barh(
            position,
            row.reference_high - row.reference_low,
            left=row.reference_low,
            height=0.8,
            color="#d1fadf",
            zorder=1,
        )
        axes.barh(position, row.percent, height=0.45, color="#b42318" if row.flag else "#6941c6", zorder=2)
        axes.text(row.percent + 1, position, f"{row.percent:.1f}%", va="center", fontsize=7, color="#344054")
    axes.set_yticks(list(positions), [row.label for row in differential], fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of the cells counted; shaded: reference interval", fontsize=7)
    axes.tick_params(axis="x", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _facts_table(rows: list[tuple[str, str]], body) -> Table:
    """Label and value pairs, two pairs a line."""
    cells = [[Paragraph(f"<b>{escape(label)}</b>", body), paragraph(value, body)] for label, value in rows]
    lines = [
        cells[index] + (cells[index + 1] if index + 1 < len(cells) else ["", ""]) for index in range(0, len(cells), 2)
    ]
    table = Table(lines, colWidths=[30 * mm, 57 * mm, 30 * mm, 57 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _not_counted_story(report, styles) -> list:
    """The cells outside the four-class count, listed apart as a CellaVision-style report does: each other kind
    with its number, then the images not recognised."""
    story = []
    if report.other_cells_found:
        rows = [["Kind", "Count"]] + [[row.label, str(row.count)] for row in report.other_cells_found]
        table = Table(rows, colWidths=[45 * mm, 22 * mm], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ]
            )
        )
        story += [paragraph("Other cells (not counted in the differential)", styles["Heading3"]), table]
    if report.not_recognised:
        story.append(
            paragraph(
                f"Not recognised, not counted: {report.not_recognised} image(s) the checks do not recognise as a "
                "white cell and no reviewer labelled.",
                styles["BodyText"],
            )
        )
    return story


def _review_text(counts: dict) -> str:
    return (
        f"{counts['reviewed']} of {counts['total']} cells: {counts['confirmed']} confirmed, "
        f"{counts['corrected']} corrected, {counts['excluded']} excluded"
    )


def _model_text(versions) -> str:
    return "; ".join(f"{version.name} (sha256 {version.sha256[:SHA256_PREFIX]})" for version in versions) or "none"


def _revision_text(report) -> str:
    if not report.revision:
        return "preliminary, not signed"
    return f"{report.revision}, amended" if report.is_amended else str(report.revision)


def _withdrawn_text(report, revision) -> str:
    """One earlier sign-off: who signed it and when, who withdrew it (un-verified the sample), when and why."""
    number = differential.sample_report_number(report.sample, revision.number)
    return (
        f"Revision {revision.number} ({number}), signed by {person(revision.verified_by)} on "
        f"{lab_time(revision.verified_at)}, was withdrawn (un-verified) by {person(revision.withdrawn_by)} on "
        f"{lab_time(revision.withdrawn_at)}. Reason: {revision.withdrawal_reason}"
    )


def _history_story(report, styles, notice) -> list:
    """What an amended report says first, and what a preliminary one of a withdrawn report says: each earlier
    sign-off and its withdrawal."""
    if not report.withdrawn:
        return []
    if report.revision:
        heading = f"Amended: revision {report.revision} of this report replaces every earlier revision."
    else:
        heading = "Withdrawn: the earlier signed revisions of this report are no longer in force."
    return [paragraph(heading, styles["Heading3"])] + [
        paragraph(_withdrawn_text(report, revision), notice) for revision in report.withdrawn
    ]


def _sign_off_story(report, styles) -> list:
    """A signed report: who verified it and when, and the signature and date line. A preliminary one: only that
    it is not verified (its band says so on every page), no signature block to sign it as it is."""
    sample = report.sample
    if not report.revision:
        return [
            paragraph(
                f"{PRELIMINARY_BAND}: this differential has not been signed off by a reviewer, and this print "
                "cannot be signed.",
                styles["Heading3"],
            )
        ]
    return [
        paragraph(f"Verified by {person(sample.verified_by)} on {lab_time(sample.verified_at)}.", styles["Heading3"]),
        Table(
            [["Signature:", "", "Date:", ""]],
            colWidths=[20 * mm, 80 * mm, 12 * mm, 40 * mm],
            rowHeights=[12 * mm],
            hAlign="LEFT",
            style=[
                ("LINEBELOW", (1, 0), (1, 0), 0.5, colors.black),
                ("LINEBELOW", (3, 0), (3, 0), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ],
        ),
    ]


def _page_marks(report):
    """Drawn on every page: the preliminary band at the top (a page torn off still says it), the footer."""
    amended = " (amended)" if report.is_amended else ""
    footer = f"{report.lab_name} · report {report.number}{amended} · sample {report.sample.identifier}"
    if not report.revision:
        footer += f" · {PRELIMINARY_BAND}"

    def draw(canvas, document):
        canvas.saveState()
        if not report.revision:
            top = A4[1] - 4 * mm
            canvas.setFillColor(BAND_COLOUR)
            canvas.rect(0, top - BAND_HEIGHT, A4[0], BAND_HEIGHT, stroke=0, fill=1)
            canvas.setFillColor(colors.white)
            canvas.setFont("Helvetica-Bold", 12)
            canvas.drawCentredString(A4[0] / 2, top - BAND_HEIGHT + 2.6 * mm, PRELIMINARY_BAND)
            canvas.setFillColor(colors.black)
        canvas.setFont("Helvetica", 7)
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {document.page}")
        canvas.restoreState()

    return draw


def sample_report_pdf(*, report, gallery, crops: dict, generated_at) -> bytes:
    """The report a laboratory files: lab, report number, differential against reference intervals with a chart,
    review counts, sign-off and a signature line, the model, and every cell's crop by class.

    ``report`` is ``differential.sample_report``; ``gallery`` is ``differential.sample_gallery``; ``crops`` maps a
    prediction id to its cell crop JPEG (None where it could not be made). Times print in the lab's time zone.
    """
    sample, styles = report.sample, getSampleStyleSheet()
    body = styles["BodyText"]
    warning = ParagraphStyle(
        "warning",
        parent=body,
        textColor=WARNING_COLOUR,
        backColor=colors.HexColor("#fffaeb"),
        borderPadding=2 * mm,
        spaceBefore=2 * mm,
        spaceAfter=3 * mm,
    )
    amended = " · <b>Amended</b>" if report.is_amended else ""
    story = [
        Table(
            [
                [
                    paragraph(report.lab_name, styles["Heading1"]),
                    Paragraph(
                        f"Report <b>{escape(report.number)}</b>{amended}",
                        ParagraphStyle("number", parent=body, alignment=TA_RIGHT),
                    ),
                ]
            ],
            colWidths=[100 * mm, 74 * mm],  # room for the number of an amended report on one line
            style=[
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ],
        ),
        paragraph(f"White-cell differential: sample {sample.identifier}", styles["Title"]),
        _facts_table(
            [
                ("Sample", sample.identifier),
                ("Report number", report.number),
                ("Revision", _revision_text(report)),
                ("Created", lab_time(sample.created_at)),
                ("Printed", lab_time(generated_at)),
                ("Cells counted", str(report.counted)),
                ("Not counted", report.not_counted or "none"),
                ("Reviewed", _review_text(report.review_counts)),
                ("Model", _model_text(report.model_versions)),
                ("Lab", report.lab_name),
            ],
            body,
        ),
        *_history_story(report, styles, warning),
        paragraph(f"Notes: {_notes_text(sample.notes)}", body),  # a paragraph of its own: long notes span pages
        Spacer(1, 2 * mm),
    ]
    for text in (report.incomplete_warning, report.low_count_warning):
        if text:
            story.append(paragraph(f"Warning: {text}", warning))
    if report.counted:  # with no cell counted every class would be flagged LOW: the warning says it instead
        story += [
            _differential_table(report.differential, report.counted),
            Spacer(1, 2 * mm),
            RLImage(
                io.BytesIO(_differential_chart_png(report.differential)),
                width=CHART_WIDTH,
                height=CHART_HEIGHT,
                hAlign="LEFT",
            ),
            paragraph(
                f"{report.counting_note} Flags: LOW or HIGH outside the adult reference interval (its edges count "
                "as inside).",
                body,
            ),
        ]
    story += _not_counted_story(report, styles)
    story += _sign_off_story(report, styles)
    story += [paragraph(f"Model: {version.name}, sha256 {version.sha256}", body) for version in report.model_versions]
    story += [paragraph(DISCLAIMER, styles["Italic"])]
    if gallery:
        story += gallery_story(gallery, crops, styles)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Report {report.number}: sample {sample.identifier}",
        author=report.lab_name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
    )
    marks = _page_marks(report)
    document.build(story, onFirstPage=marks, onLaterPages=marks)
    return buffer.getvalue()


def _cell_crop(prediction) -> bytes | None:
    """The cell's crop for the report's gallery; None (a blank square) where its image cannot be read."""
    try:
        return prediction_exports.cell_crop_jpeg(prediction)
    except (model_gateway.ImageError, OSError):
        logger.warning("No cell crop for prediction %s in the report: its image could not be read.", prediction.pk)
        return None


def sample_pdf_render(*, report, generated_at) -> bytes:
    """``differential.sample_report`` as a PDF with every cell's crop, printed at ``generated_at``: signed for a
    verified sample (the sign-off renders it once and stores it), else preliminary."""
    gallery = differential.sample_gallery(sample=report.sample)
    crops = {prediction.pk: _cell_crop(prediction) for group in gallery for prediction in group.predictions}
    return sample_report_pdf(report=report, gallery=gallery, crops=crops, generated_at=generated_at)
