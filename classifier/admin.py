"""Staff manage every record; what the model produced is read-only, and a cell of a verified sample can be neither
changed nor deleted here (un-verify the sample first, which is recorded)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from classifier.models import Prediction, WaitingImage
from classifier.services.predictions import prediction_delete
from classifier.templatetags.hematovision import percent


class ViewOnlyAdmin(admin.ModelAdmin):
    """Records only the app writes (the audit trail, images waiting for a worker): staff see them, nothing more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def thumbnail_html(prediction):
    if not prediction.pk:
        return "-"
    return format_html(
        '<img src="{}" alt="" class="admin-thumbnail">', reverse("classifier:preview", args=[prediction.pk])
    )


def in_verified_sample(sample) -> bool:
    return sample is not None and sample.is_verified


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "original_filename",
        "sample",
        "predicted_label",
        "confidence_percent",
        "reviewed_label",
        "owner",
        "model_version",
        "created_at",
    )
    list_filter = ("predicted_label", "model_version", "nucleus_found", "created_at")
    search_fields = (
        "owner__username",
        "owner__first_name",
        "owner__last_name",
        "owner__email",
        "original_filename",
        "sample__identifier",
    )
    date_hierarchy = "created_at"
    list_select_related = ("owner", "model_version", "sample")
    readonly_fields = (
        "thumbnail",
        "image",
        "preview",
        "image_width",
        "image_height",
        "sample",
        "predicted_label",
        "confidence_percent",
        "probabilities_percent",
        "nucleus_found",
        "reviewed_label",
        "reviewed_by",
        "reviewed_at",
        "excluded",
        "exclusion_reason",
        "model_version",
        "inference_ms",
        "runtime",
        "created_at",
    )
    fields = ("thumbnail", "owner", "original_filename", *readonly_fields[1:])

    class Media:
        css = {"all": ["css/admin.css"]}  # the thumbnail's size: the Content-Security-Policy refuses inline styles

    @admin.display(description="Image")
    def thumbnail(self, prediction):
        return thumbnail_html(prediction)

    @admin.display(description="Confidence", ordering="confidence")
    def confidence_percent(self, prediction):
        return percent(prediction.confidence)

    @admin.display(description="Probabilities")
    def probabilities_percent(self, prediction):
        """Every class's probability as a percentage, most likely first (the stored fractions stay in the API)."""
        return ", ".join(f"{label} {percent(value)}" for label, value in prediction.sorted_probabilities())

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and in_verified_sample(obj.sample))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and in_verified_sample(obj.sample))

    def delete_model(self, request, obj):
        prediction_delete(prediction=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for prediction in queryset:
            prediction_delete(prediction=prediction, actor=request.user)


@admin.register(WaitingImage)
class WaitingImageAdmin(ViewOnlyAdmin):
    """Images waiting for a worker, to be seen only: a worker turns each into a prediction, and a deleted row
    would be an image lost."""

    list_display = ("sample", "owner", "original_filename", "created_at", "queued_at")
    list_select_related = ("sample", "owner")
