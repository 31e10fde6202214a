"""Staff manage every record; what the model produced is read-only, the audit trail is read-only, and a verified
sample and its cells can be neither changed nor deleted here (un-verify it first, which is recorded)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from django.utils.html import format_html

from classifier import services
from classifier.models import Lab, ModelVersion, PendingImage, Prediction, Sample, SampleEvent, User

admin.site.register(User, UserAdmin)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Records only the app writes (the audit trail, images waiting for a worker): staff see them, nothing more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _thumbnail(prediction):
    if not prediction.pk:
        return "-"
    return format_html('<img src="{}" alt="" class="admin-thumbnail">',
                       reverse("classifier:preview", args=[prediction.pk]))


def _frozen(sample) -> bool:
    return sample is not None and sample.is_verified


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
        return _thumbnail(prediction)

    @admin.display(description="Confidence", ordering="confidence")
    def confidence_percent(self, prediction):
        return f"{prediction.confidence:.1%}"

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and _frozen(obj.sample))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and _frozen(obj.sample))

    def delete_model(self, request, obj):
        services.prediction_delete(prediction=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for prediction in queryset:
            services.prediction_delete(prediction=prediction, actor=request.user)


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "member_count")
    search_fields = ("name", "slug", "members__username")
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ("members",)

    @admin.display(description="Members")
    def member_count(self, lab):
        return lab.members.count()


class SamplePredictionInline(admin.TabularInline):
    """The sample's cells as the model and the reviewers left them: read-only here."""

    model = Prediction
    fields = ("thumbnail", "original_filename", "predicted_label", "confidence", "reviewed_label", "excluded",
              "exclusion_reason", "reviewed_by", "reviewed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="Image")
    def thumbnail(self, prediction):
        return _thumbnail(prediction)

    def has_add_permission(self, request, obj=None):
        return False


class SampleEventInline(admin.TabularInline):
    model = SampleEvent
    fields = ("at", "kind", "actor", "cell", "from_label", "to_label", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = ("identifier", "lab", "owner", "created_at", "cell_count", "verification")
    list_filter = ("lab", ("verified_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("identifier", "owner__username", "lab__name")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "lab", "verified_by")
    readonly_fields = ("owner", "created_at", "verified_at", "verified_by")
    fields = ("identifier", "lab", "notes", *readonly_fields)
    inlines = [SamplePredictionInline, SampleEventInline]

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description="Cells")
    def cell_count(self, sample):
        return sample.predictions.count()

    @admin.display(description="Verification", ordering="verified_at")
    def verification(self, sample):
        if not sample.is_verified:
            return "Not verified"
        return f"Verified by {sample.verified_by} on {sample.verified_at:%Y-%m-%d %H:%M}"

    def has_add_permission(self, request):
        return False  # samples are made by their owners on the Samples page or the API, in one of their labs

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _frozen(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _frozen(obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(SampleEvent._meta.verbose_name)  # a trail goes with its sample, never on its own
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.sample_delete(sample=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for sample in queryset:
            services.sample_delete(sample=sample, actor=request.user)


@admin.register(SampleEvent)
class SampleEventAdmin(ViewOnlyAdmin):
    """The audit trail: written only by the services, never edited or deleted."""

    list_display = ("at", "sample", "kind", "actor", "cell", "from_label", "to_label", "reason")
    list_filter = ("kind", "at")
    search_fields = ("sample__identifier", "actor__username", "cell", "reason")
    date_hierarchy = "at"
    list_select_related = ("sample", "actor")


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
class PendingImageAdmin(ViewOnlyAdmin):
    """Images waiting for a worker, to be seen only: a worker turns each into a prediction, and a deleted row
    would be an image lost."""

    list_display = ("sample", "owner", "original_filename", "created_at", "queued_at")
    list_select_related = ("sample", "owner")
