"""Everything that reads: querysets already limited to what the asking user may see."""

from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from classifier import model_service
from classifier.models import CLASS_CHOICES, ModelVersion, Prediction


class PredictionFilter(django_filters.FilterSet):
    label = django_filters.ChoiceFilter(field_name="predicted_label", choices=CLASS_CHOICES, label="Class",
                                        empty_label="All classes")
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="From",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="To",
                                        widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Prediction
        fields = ["label", "date_from", "date_to"]


def prediction_list(*, user) -> QuerySet[Prediction]:
    """The user's own predictions, newest first (staff manage everyone's in the admin)."""
    return Prediction.objects.filter(owner=user).select_related("model_version")


def prediction_filter(*, user, params) -> PredictionFilter:
    return PredictionFilter(params, queryset=prediction_list(user=user))


def prediction_get(*, user, pk: int) -> Prediction:
    """One prediction of the user's, or 404: another user's record looks exactly like a missing one."""
    return get_object_or_404(prediction_list(user=user), pk=pk)


def prediction_get_for_file(*, user, pk: int) -> Prediction:
    """Like ``prediction_get``, but staff may open any image (the admin shows thumbnails)."""
    queryset = Prediction.objects.all() if user.is_staff else prediction_list(user=user)
    return get_object_or_404(queryset, pk=pk)


def model_version_active() -> ModelVersion | None:
    """The version of the artifact at ``HEMATOVISION_MODEL_PATH``, if it has been registered."""
    try:
        sha256 = model_service.read_metadata(settings.HEMATOVISION_MODEL_PATH).get("sha256")
    except model_service.ArtifactError:
        return None
    return ModelVersion.objects.filter(sha256=sha256).first()
