"""The form that creates a sample; duplicates and permissions are decided in services."""

from django import forms

from labs.models import IDENTIFIER_HELP, NOTES_HELP, Sample


class SampleForm(forms.Form):
    identifier = forms.CharField(max_length=Sample._meta.get_field("identifier").max_length, help_text=IDENTIFIER_HELP)
    lab = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="No lab: only me",
        help_text="Its members see the sample and its reviewers review and verify it.",
    )
    notes = forms.CharField(
        required=False,
        max_length=Sample._meta.get_field("notes").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=NOTES_HELP,
    )

    def __init__(self, *args, labs, **kwargs):
        """``labs``: the labs the user may create samples in (none: the field is left out)."""
        super().__init__(*args, **kwargs)
        if labs.exists():
            self.fields["lab"].queryset = labs
            if labs.count() == 1:
                self.fields["lab"].initial = labs.get()
        else:
            del self.fields["lab"]
