"""Template filters and tags; ``lab_time`` and ``person`` also word the PDF report, so page and paper read alike."""

from typing import NamedTuple

from django import template
from django.utils import formats, timezone

from classifier.models import LABEL_NAMES, Counting

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.9731 -> '97.3%'; probabilities are stored as fractions."""
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def lab_time(moment) -> str:
    """A stored time in the lab's time zone (``TIME_ZONE``) in the site's one format (``DATETIME_FORMAT`` of
    ``hematovision.formats``, the admin's too), e.g. "1 Dec 2026, 18:05 CET"; '' for none."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


@register.filter
def person(user) -> str:
    """A user's full name, or the login name where none is set; '' for none."""
    return (user.get_full_name() or user.get_username()) if user else ""


@register.filter
def label_name(code: str) -> str:
    """A label's name in lower case ("immature granulocyte"), for the audit trail; other states ("excluded") as
    they are."""
    return LABEL_NAMES.get(code, code).lower()


class Headline(NamedTuple):
    """What a cell's card and page lead with: ``text``, set apart by ``css_class`` when it is no counted class, or
    followed by ``note`` (the model's confidence, or "reviewed") when it is one."""

    text: str
    css_class: str = ""
    note: str = ""

    def __str__(self) -> str:
        return f"{self.text} {self.note}" if self.note else self.text


@register.simple_tag
def cell_headline(prediction) -> Headline:
    """The headline as the review left the cell (``Prediction.counting``): the reviewer's class, "Excluded", another
    kind not counted, or "Not recognised" for an image the checks object to; the model's class only until then."""
    counting = prediction.counting
    if counting == Counting.EXCLUDED:
        return Headline("Excluded", "excluded-headline")
    if counting == Counting.NOT_RECOGNISED:
        return Headline("Not recognised as a white-cell image", "not-recognised")
    if counting == Counting.OTHER:
        return Headline(f"{prediction.final_label_display} — not counted", "other-kind-headline")
    return Headline(
        prediction.final_label_display, note="reviewed" if prediction.reviewed_label else percent(prediction.confidence)
    )


REVIEW_STATE_MARKS = {"confirmed": "✓", "corrected": "✎", "excluded": "✕"}


@register.filter
def review_words(prediction) -> str:
    """What the reviewer did to the cell, in words ("Corrected to Neutrophil", "Excluded: smudge cell"), or ''."""
    state = prediction.review_state
    if state == "corrected":
        return f"Corrected to {prediction.get_reviewed_label_display()}"
    if state == "excluded":
        return f"Excluded: {prediction.exclusion_reason}"
    return state.capitalize()


@register.filter
def review_mark(prediction) -> str:
    """The grid's sign for the review state (✓ confirmed, ✎ corrected, ✕ excluded), or ''."""
    return REVIEW_STATE_MARKS.get(prediction.review_state, "")
