"""Staff manage labs and samples; the audit trail is read-only, and a verified sample can be neither changed nor
deleted here (un-verify it first, which is recorded).

A sample's page lists its first cells and latest events, read-only, and links to all of them in their own
paginated lists: a smear of 500 cells opens in well under a second instead of rendering 500 inline forms."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse

from classifier.admin import ViewOnlyAdmin, in_verified_sample, thumbnail_html
from classifier.models import Prediction
from classifier.templatetags.hematovision import lab_time, person
from labs.models import Lab, LabModelChange, Sample, SampleEvent
from labs.selectors import sample_events, sample_predictions, sample_review_counts
from labs.services.lab_models import lab_model_request
from labs.services.samples import sample_delete

CELLS_SHOWN = 20  # on a sample's admin page; the rest are one link away, in the paginated Predictions list
EVENTS_SHOWN = 10


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


def changelist_of(model, sample) -> str:
    """The admin list of ``model``'s rows of one sample (paginated, filterable)."""
    opts = model._meta
    return f"{reverse(f'admin:{opts.app_label}_{opts.model_name}_changelist')}?sample__id__exact={sample.pk}"


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = ("identifier", "lab", "owner", "created_at", "cell_count", "verification")
    list_filter = ("lab", ("verified_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("identifier", "owner__username", "owner__first_name", "owner__last_name", "lab__name")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "lab", "verified_by")
    readonly_fields = ("owner", "created_at", "verified_at", "verified_by", "cells", "audit_trail")
    fields = ("identifier", "lab", "notes", *readonly_fields)

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cell_count=Count("predictions"))

    @admin.display(description="Cells", ordering="cell_count")
    def cell_count(self, sample):
        return sample.cell_count

    @admin.display(description="Verification", ordering="verified_at")
    def verification(self, sample):
        if not sample.is_verified:
            return "Not verified"
        return f"Verified by {person(sample.verified_by)} on {lab_time(sample.verified_at)}"

    @admin.display(description="Cells")
    def cells(self, sample):
        """The first cells as the model and the reviewers left them, the review counts, and a link to them all."""
        return render_to_string(
            "admin/labs/sample/cells.html",
            {
                "cells": [(cell, thumbnail_html(cell)) for cell in sample_predictions(sample=sample)[:CELLS_SHOWN]],
                "counts": sample_review_counts(sample),
                "all_url": changelist_of(Prediction, sample),
            },
        )

    @admin.display(description="Audit trail")
    def audit_trail(self, sample):
        events = sample_events(sample=sample)
        return render_to_string(
            "admin/labs/sample/audit_trail.html",
            {"events": events[:EVENTS_SHOWN], "total": events.count(), "all_url": changelist_of(SampleEvent, sample)},
        )

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
    search_fields = ("sample__identifier", "actor__username", "actor__first_name", "actor__last_name", "cell", "reason")
    date_hierarchy = "at"
    list_select_related = ("sample", "actor")
