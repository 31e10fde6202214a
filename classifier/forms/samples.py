"""The form that creates a sample; duplicates and permissions are decided in services."""

from django import forms

from classifier.models import Sample

NO_PERSONAL_DATA = "no patient names or other personal data"


class SampleForm(forms.Form):
    identifier = forms.CharField(
        max_length=Sample._meta.get_field("identifier").max_length,
        help_text=f"The laboratory sample number ({NO_PERSONAL_DATA}).",
    )
    notes = forms.CharField(
        required=False,
        max_length=Sample._meta.get_field("notes").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"Optional; {NO_PERSONAL_DATA}.",
    )
