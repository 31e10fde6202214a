"""Template filters of the sample pages."""

from django import template

from labs.selectors import SampleState

register = template.Library()


@register.filter
def state_name(code: str) -> str:
    """A ``SampleState`` code in words ("Awaiting review"); an unknown code as it is."""
    return dict(SampleState.choices).get(code, code)
