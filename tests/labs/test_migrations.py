"""labs' data migrations: the Senior reviewers group holding the un-verify permission (0003), and the report
revisions rebuilt from the audit trail for sign-offs made before revisions existed (0002)."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from classifier.models import REVIEW_PERMISSION
from labs.models import UNVERIFY_PERMISSION, ReportRevision, SampleEvent
from tests.factories import SENIOR_REVIEWERS_GROUP, reviewer_make, sample_make

pytestmark = pytest.mark.django_db
group_migration = importlib.import_module("labs.migrations.0003_senior_reviewers_group")
revisions_from_audit_trail = importlib.import_module("labs.migrations.0002_report_revisions").revisions_from_audit_trail


def test_the_migrated_database_has_the_senior_reviewers_group_with_the_unverify_permission(django_user_model):
    group = Group.objects.get(name=SENIOR_REVIEWERS_GROUP)
    assert [f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()] == [UNVERIFY_PERMISSION]
    member = django_user_model.objects.create_user("vera")
    member.groups.add(group)
    assert member.has_perm(UNVERIFY_PERMISSION) and not member.has_perm(REVIEW_PERMISSION)


def test_the_group_migration_makes_the_permission_on_a_fresh_database_and_runs_twice_harmlessly():
    """On a fresh database permissions come after every migration (post_migrate): the migration makes its own."""
    Group.objects.filter(name=SENIOR_REVIEWERS_GROUP).delete()
    Permission.objects.filter(codename="unverify_sample").delete()
    group_migration.senior_reviewers_group(apps, None)
    group_migration.senior_reviewers_group(apps, None)
    group = Group.objects.get(name=SENIOR_REVIEWERS_GROUP)
    unverify = Permission.objects.get(codename="unverify_sample", content_type__app_label="labs")
    assert list(group.permissions.all()) == [unverify]
    assert unverify.name == "Can un-verify a verified sample, giving a reason"


def at(hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 11, 2, hour, tzinfo=datetime.UTC)


def test_sign_offs_from_before_revisions_become_revisions_from_the_audit_trail(user, django_user_model):
    rita, vera = reviewer_make(django_user_model, "rita"), reviewer_make(django_user_model, "vera")
    amended, signed, opened = (sample_make(user, name) for name in ("S-AMENDED", "S-SIGNED", "S-OPEN"))
    for sample, actor, kind, hour, reason in (
        (amended, rita, "verified", 9, ""),
        (amended, vera, "unverified", 10, "Wrong smear"),
        (amended, vera, "verified", 11, ""),
        (signed, rita, "verified", 12, ""),
        (opened, rita, "confirmed", 12, ""),
    ):
        SampleEvent.objects.create(sample=sample, actor=actor, kind=kind, at=at(hour), reason=reason)
    revisions_from_audit_trail(apps, None)
    rows = ReportRevision.objects.order_by("sample__identifier", "number").values_list(
        "sample__identifier", "number", "verified_by", "verified_at", "withdrawn_by", "withdrawn_at",
        "withdrawal_reason", "pdf",
    )  # fmt: skip
    assert list(rows) == [
        ("S-AMENDED", 1, rita.pk, at(9), vera.pk, at(10), "Wrong smear", ""),
        ("S-AMENDED", 2, vera.pk, at(11), None, None, "", ""),
        ("S-SIGNED", 1, rita.pk, at(12), None, None, "", ""),
    ]
