"""The image upload forms of the upload page and of a sample."""

from django import forms

from classifier.uploads import ACCEPT, ZIP_ACCEPT, formats_text, uploads_count_check


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Django's documented recipe for one field holding several files."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("allow_empty_file", True)  # empty files are reported per file by the upload checks
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, (list, tuple)):
            return [single_clean(item, initial) for item in data]
        return [single_clean(data, initial)]


class UploadForm(forms.Form):
    images = MultipleFileField(
        label="Microscope images",
        help_text=f"{formats_text()}; several files at once.",
        error_messages={"required": "Choose at least one image."},
    )

    def clean_images(self):
        images = self.cleaned_data["images"]
        if not images:
            raise forms.ValidationError(self.fields["images"].error_messages["required"], code="required")
        uploads_count_check(images)
        return images


class SampleUploadForm(UploadForm):
    """The upload form of a sample: the same checks, and ZIP archives of images are welcome too."""

    images = MultipleFileField(
        label="Cell images of this sample",
        help_text=f"{formats_text()}, many at once, or one ZIP of them (folders inside are fine).",
        error_messages={"required": "Choose at least one image or a ZIP."},
        widget=MultipleFileInput(attrs={"accept": ZIP_ACCEPT}),
    )
