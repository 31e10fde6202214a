"""Forms of the sample pages: field shape only; duplicates and permissions are decided in services."""

from django import forms

from classifier.forms import ACCEPT, MultipleFileField, MultipleFileInput, UploadForm
from classifier.models import Sample

NO_PERSONAL_DATA = "no patient names or other personal data"


class SampleForm(forms.Form):
    identifier = forms.CharField(
        max_length=Sample._meta.get_field("identifier").max_length,
        help_text=f"The laboratory sample number ({NO_PERSONAL_DATA}).",
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"Optional; {NO_PERSONAL_DATA}.",
    )


class SampleUploadForm(UploadForm):
    """The upload form of a sample: the same checks, and ZIP archives of images are welcome too."""

    images = MultipleFileField(
        label="Cell images of this sample",
        help_text="JPEG, PNG, TIFF or BMP, many at once, or one ZIP of them (folders inside are fine).",
        error_messages={"required": "Choose at least one image or a ZIP."},
        widget=MultipleFileInput(attrs={"accept": f"{ACCEPT},.zip,application/zip"}),
    )
