# A "Senior reviewers" group holding the un-verify permission: staff add the few people who may withdraw a signed
# report to it (and to Reviewers, to review and verify). On a fresh database the permission does not exist yet
# (post_migrate makes permissions after every migration has run), so it is made here as post_migrate would.

from django.db import migrations

SENIOR_REVIEWERS_GROUP = "Senior reviewers"


def senior_reviewers_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    sample, _ = ContentType.objects.get_or_create(app_label="labs", model="sample")
    unverify, _ = Permission.objects.get_or_create(
        content_type=sample,
        codename="unverify_sample",
        defaults={"name": "Can un-verify a verified sample, giving a reason"},
    )
    group, _ = Group.objects.get_or_create(name=SENIOR_REVIEWERS_GROUP)
    group.permissions.add(unverify)


class Migration(migrations.Migration):

    dependencies = [
        ("labs", "0002_report_revisions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Undone, the group stays: staff may have put people in it.
    operations = [migrations.RunPython(senior_reviewers_group, migrations.RunPython.noop)]
