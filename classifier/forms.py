"""Forms: field shape only; what makes a file acceptable is decided in services.upload_check."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

ACCEPT = ".jpg,.jpeg,.png,.tif,.tiff,.bmp,image/jpeg,image/png,image/tiff,image/bmp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Django's documented recipe for one field holding several files."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("allow_empty_file", True)  # empty files are reported per file by the service
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, (list, tuple)):
            return [single_clean(item, initial) for item in data]
        return [single_clean(data, initial)]


class UploadForm(forms.Form):
    images = MultipleFileField(
        label="Microscope images",
        help_text="JPEG, PNG, TIFF or BMP; several files at once.",
        error_messages={"required": "Choose at least one image."},
    )

    def clean_images(self):
        images = self.cleaned_data["images"]
        if not images:
            raise forms.ValidationError(self.fields["images"].error_messages["required"], code="required")
        limit = settings.HEMATOVISION_MAX_FILES_PER_UPLOAD
        if len(images) > limit:
            raise forms.ValidationError(f"At most {limit} files per upload.")
        return images


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)
