"""Template filters of the sample pages."""

from django import template

from labs.selectors import UploadProgress, sample_upload_progress

register = template.Library()


@register.filter
def upload_progress(sample) -> UploadProgress | None:
    """The latest upload of a sample from ``sample_list_with_counts`` (no query); None before any."""
    return sample_upload_progress(sample=sample)
