# Each verification signs a revision of the sample's report (its PDF stored, its sha256 in the audit trail).
# Sign-offs made before this become revisions too, rebuilt from the audit trail, without a stored PDF.

import django.db.models.deletion
import labs.models
from django.conf import settings
from django.db import migrations, models


def revisions_from_audit_trail(apps, schema_editor):
    """Each earlier verification the next revision of its sample's report, each un-verification withdrawing the
    one before it, so the next sign-off of such a sample is numbered and marked amended as it should be."""
    SampleEvent = apps.get_model("labs", "SampleEvent")
    ReportRevision = apps.get_model("labs", "ReportRevision")
    latest = {}  # sample id -> its latest revision
    events = SampleEvent.objects.filter(kind__in=["verified", "unverified"]).order_by("sample_id", "at", "id")
    for event in events.iterator():
        revision = latest.get(event.sample_id)
        if event.kind == "verified":
            latest[event.sample_id] = ReportRevision.objects.create(
                sample_id=event.sample_id,
                number=revision.number + 1 if revision else 1,
                verified_by_id=event.actor_id,
                verified_at=event.at,
            )
        elif revision is not None and revision.withdrawn_at is None:
            revision.withdrawn_by_id, revision.withdrawn_at = event.actor_id, event.at
            revision.withdrawal_reason = event.reason
            revision.save(update_fields=["withdrawn_by", "withdrawn_at", "withdrawal_reason"])


class Migration(migrations.Migration):

    dependencies = [
        ('labs', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='sampleevent',
            name='report_sha256',
            field=models.CharField(blank=True, help_text="A verification's: the sha256 of the report PDF it signed and stored.", max_length=64),
        ),
        migrations.CreateModel(
            name='ReportRevision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(help_text='1 for the first sign-off; 2 and on are amended reports.')),
                ('pdf', models.FileField(blank=True, upload_to=labs.models.report_upload_to)),
                ('sha256', models.CharField(blank=True, max_length=64)),
                ('verified_at', models.DateTimeField()),
                ('withdrawn_at', models.DateTimeField(blank=True, null=True)),
                ('withdrawal_reason', models.CharField(blank=True, max_length=200)),
                ('sample', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='revisions', to='labs.sample')),
                ('verified_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('withdrawn_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['sample', 'number'],
                'constraints': [models.UniqueConstraint(fields=('sample', 'number'), name='unique_report_revision')],
            },
        ),
        migrations.RunPython(revisions_from_audit_trail, migrations.RunPython.noop),
    ]
