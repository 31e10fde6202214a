"""Staff manage labs and samples; the audit trail is read-only, and a verified sample can be neither changed nor
deleted here (un-verify it first, which is recorded)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError

from classifier.admin import ViewOnlyAdmin, in_verified_sample, thumbnail_html
from classifier.models import Prediction
from labs.models import Lab, LabModelChange, Sample, SampleEvent
from labs.services.lab_models import lab_model_request
from labs.services.samples import sample_delete


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "member_count", "active_model")
    list_select_related = ("active_model",)
    search_fields = ("name", "slug", "members__username")
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ("members",)
    readonly_fields = ("active_model",)  # changed only by a build or a revert, which are audited
    actions = ["build_lab_model"]

    @admin.display(description="Members")
    def member_count(self, lab):
        return lab.members.count()

    @admin.action(description="Build the selected labs' own models from their verified cells")
    def build_lab_model(self, request, queryset):
        for lab in queryset:
            try:
                change = lab_model_request(lab=lab, user=request.user)
            except (PermissionDenied, ValidationError) as error:
                self.message_user(request, f"{lab}: {' '.join(getattr(error, 'messages', [str(error)]))}", "error")
            else:
                change.refresh_from_db()
                self.message_user(request, f"{lab}: {change.get_status_display().lower()}.")


@admin.register(LabModelChange)
class LabModelChangeAdmin(ViewOnlyAdmin):
    """The labs' model history: written by builds and reverts only."""

    list_display = ("lab", "kind", "status", "requested_by", "requested_at", "candidate")
    list_filter = ("status", "kind", "lab")
    list_select_related = ("lab", "requested_by", "candidate")


class SamplePredictionInline(admin.TabularInline):
    """The sample's cells as the model and the reviewers left them: read-only here."""

    model = Prediction
    fields = (
        "thumbnail",
        "original_filename",
        "predicted_label",
        "confidence",
        "reviewed_label",
        "excluded",
        "exclusion_reason",
        "reviewed_by",
        "reviewed_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="Image")
    def thumbnail(self, prediction):
        return thumbnail_html(prediction)

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
        return super().has_change_permission(request, obj) and not in_verified_sample(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not in_verified_sample(obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(SampleEvent._meta.verbose_name)  # a trail goes with its sample, never on its own
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        sample_delete(sample=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for sample in queryset:
            sample_delete(sample=sample, actor=request.user)


@admin.register(SampleEvent)
class SampleEventAdmin(ViewOnlyAdmin):
    """The audit trail: written only by the services, never edited or deleted."""

    list_display = ("at", "sample", "kind", "actor", "cell", "from_label", "to_label", "reason")
    list_filter = ("kind", "at")
    search_fields = ("sample__identifier", "actor__username", "cell", "reason")
    date_hierarchy = "at"
    list_select_related = ("sample", "actor")
