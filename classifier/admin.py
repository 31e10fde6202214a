"""Staff manage every record; what the model produced is read-only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from django.utils.html import format_html

from classifier import services
from classifier.models import ModelVersion, PendingImage, Prediction, User

admin.site.register(User, UserAdmin)


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "original_filename", "predicted_label", "confidence_percent", "owner",
                    "model_version", "created_at")
    list_filter = ("predicted_label", "model_version", "nucleus_found", "created_at")
    search_fields = ("owner__username", "owner__email", "original_filename")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "model_version")
    readonly_fields = ("thumbnail", "image", "preview", "image_width", "image_height", "predicted_label",
                       "confidence", "probabilities", "nucleus_found", "model_version", "inference_ms",
                       "created_at")
    fields = ("thumbnail", "owner", "original_filename", *readonly_fields[1:])

    class Media:
        css = {"all": ["css/admin.css"]}  # the thumbnail's size: the Content-Security-Policy refuses inline styles

    @admin.display(description="Image")
    def thumbnail(self, prediction):
        if not prediction.pk:
            return "-"
        return format_html('<img src="{}" alt="" class="admin-thumbnail">',
                           reverse("classifier:preview", args=[prediction.pk]))

    @admin.display(description="Confidence", ordering="confidence")
    def confidence_percent(self, prediction):
        return f"{prediction.confidence:.1%}"

    def delete_model(self, request, obj):
        services.prediction_delete(prediction=obj)

    def delete_queryset(self, request, queryset):
        for prediction in queryset:
            services.prediction_delete(prediction=prediction)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "base_network", "input_size", "sha256_short", "trained_at", "registered_at")
    search_fields = ("name", "sha256")
    readonly_fields = ("name", "file_path", "sha256", "base_network", "input_size", "class_names", "metrics",
                       "trained_at", "registered_at")

    @admin.display(description="sha256")
    def sha256_short(self, version):
        return version.sha256[:12]


@admin.register(PendingImage)
class PendingImageAdmin(admin.ModelAdmin):
    """Images waiting for a worker, to be seen only: a worker turns each into a prediction, and a deleted row
    would be an image lost."""

    list_display = ("sample", "owner", "original_filename", "created_at")
    list_select_related = ("sample", "owner")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
