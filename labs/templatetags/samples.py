"""Template filters of the sample pages."""

from django import template

from labs.selectors import SampleState, UploadProgress, sample_upload_progress

register = template.Library()


@register.filter
def state_name(code: str) -> str:
    """A ``SampleState`` code in words ("Awaiting review"); an unknown code as it is."""
    return dict(SampleState.choices).get(code, code)


@register.filter
def upload_progress(sample) -> UploadProgress | None:
    """The latest upload of a sample from ``sample_list_with_counts`` (no query); None before any."""
    return sample_upload_progress(sample=sample)
