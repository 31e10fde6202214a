"""Filter sets of the history page, its CSV export and the predictions API (django-filter)."""

import django_filters
from django import forms

from classifier.models import LABEL_CHOICES, Prediction


class AnyYesNoWidget(django_filters.widgets.BooleanWidget):
    """django-filter's yes/no select, with "Any" rather than "Unknown" for no filter."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", "Any"), ("true", "Yes"), ("false", "No"))


class PredictionFilter(django_filters.FilterSet):
    label = django_filters.ChoiceFilter(
        field_name="predicted_label", choices=LABEL_CHOICES, label="Class", empty_label="All classes"
    )
    date_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    needs_review = django_filters.BooleanFilter(
        field_name="needs_review", label="Needs review", widget=AnyYesNoWidget()
    )

    class Meta:
        model = Prediction
        fields = ["label", "date_from", "date_to", "needs_review"]


class PredictionApiFilter(PredictionFilter):
    """The history filters plus the sample (by id: the queryset it narrows is already the user's)."""

    sample = django_filters.NumberFilter(field_name="sample_id", label="Sample id")

    class Meta(PredictionFilter.Meta):
        fields = [*PredictionFilter.Meta.fields, "sample"]


class HistoryFilter(PredictionFilter):
    """The history's filters: the classes, dates and flags of every list, and whose records to show (``user``'s
    uploads, the cells they reviewed in their labs' samples, or both)."""

    UPLOADED, REVIEWED = "uploaded", "reviewed"
    whose = django_filters.ChoiceFilter(
        choices=[(UPLOADED, "Uploaded by me"), (REVIEWED, "Reviewed by me")],
        method="filter_whose",
        label="Whose",
        empty_label="Uploaded or reviewed by me",
    )

    class Meta(PredictionFilter.Meta):
        fields = [*PredictionFilter.Meta.fields, "whose"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_whose(self, queryset, name, value):
        return queryset.filter(owner=self.user) if value == self.UPLOADED else queryset.filter(reviewed_by=self.user)
