"""The report's gallery: every cell's crop by class, small enough that a PDF of hundreds of cells stays light."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Image as RLImage
from reportlab.platypus import KeepTogether, Paragraph, Table, TableStyle

GALLERY_COLUMNS = 12  # 12 crops of 13 mm fill the text width: a 100-cell differential takes about a page
GALLERY_SIDE = 13 * mm
GALLERY_THUMB_PIXELS, GALLERY_THUMB_QUALITY = 160, 80  # ~300 dpi at 13 mm; a few kB each


def paragraph(text: str, style) -> Paragraph:
    """Text as a PDF paragraph, never read as markup (file names and notes come from users)."""
    return Paragraph(escape(text), style)


def _thumbnail(jpeg: bytes | None, side: float):
    """A cell crop shrunk for print (light PDFs for hundreds of cells), or a blank square where it is missing."""
    if jpeg is None:
        return Table(
            [["no image"]],
            colWidths=[side],
            rowHeights=[side],
            style=[
                ("BOX", (0, 0), (-1, -1), 0.3, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 5),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ],
        )
    image = PILImage.open(io.BytesIO(jpeg)).convert("RGB")
    image.thumbnail((GALLERY_THUMB_PIXELS, GALLERY_THUMB_PIXELS))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=GALLERY_THUMB_QUALITY)
    buffer.seek(0)
    return RLImage(buffer, width=side, height=side * image.height / image.width)


def gallery_story(groups, crops: dict, styles) -> list:
    """Each group's heading and its cells, ``GALLERY_COLUMNS`` small crops a row."""
    story = [paragraph("Cell images by class", styles["Heading2"])]
    side = GALLERY_SIDE
    for group in groups:
        count = len(group.predictions)
        heading = paragraph(f"{group.label}: {count} cell{'s' if count > 1 else ''}", styles["Heading4"])
        images = [_thumbnail(crops.get(prediction.pk), side) for prediction in group.predictions]
        rows = [images[index : index + GALLERY_COLUMNS] for index in range(0, len(images), GALLERY_COLUMNS)]
        rows[-1] += [""] * (GALLERY_COLUMNS - len(rows[-1]))
        table = Table(rows, colWidths=[side + 1 * mm] * GALLERY_COLUMNS, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 1 * mm),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1 * mm),
                ]
            )
        )
        story.append(KeepTogether([heading, table]))  # a heading never ends a page alone
        reasons = [
            f"{prediction.original_filename}: {prediction.exclusion_reason}"
            for prediction in group.predictions
            if prediction.excluded and prediction.exclusion_reason
        ]
        if reasons:
            story.append(paragraph("Why excluded: " + "; ".join(reasons), styles["BodyText"]))
    return story
