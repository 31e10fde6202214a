"""Template filters; ``lab_time`` and ``person`` also word the PDF report, so page and paper read alike."""

from django import template
from django.utils import dateformat, timezone

from classifier.models import LABEL_NAMES

register = template.Library()

LAB_TIME_FORMAT = "j M Y, H:i T"  # "1 Dec 2026, 18:05 CET": unambiguous in every country, unlike 01/12/2026


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.9731 -> '97.3%'; probabilities are stored as fractions."""
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def lab_time(moment) -> str:
    """A stored time in the lab's time zone (``TIME_ZONE``), e.g. "1 Dec 2026, 18:05 CET"; '' for none."""
    return dateformat.format(timezone.localtime(moment), LAB_TIME_FORMAT) if moment else ""


@register.filter
def person(user) -> str:
    """A user's full name, or the login name where none is set; '' for none."""
    return (user.get_full_name() or user.get_username()) if user else ""


@register.filter
def label_name(code: str) -> str:
    """A label's name in lower case ("immature granulocyte"), for the audit trail; other states ("excluded") as
    they are."""
    return LABEL_NAMES.get(code, code).lower()
