# Labs, samples and their audit trail, moved here from classifier (its 0009 removes them there). State only:
# classifier's migrations made the tables (classifier_lab, classifier_lab_members, classifier_sample,
# classifier_sampleevent), which keep their rows.

import accounts.models
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('classifier', '0008_owners_keep_verified_records'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Lab',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('slug', models.SlugField(help_text='Short name for the API, e.g. haematology-north.', unique=True)),
                        ('members', models.ManyToManyField(blank=True, related_name='labs', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'classifier_lab',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Sample',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('identifier', models.CharField(help_text='Laboratory sample number (no patient names or other personal data).', max_length=64)),
                        ('notes', models.TextField(blank=True, help_text='Optional; no patient names or other personal data.', max_length=4000, validators=[django.core.validators.MaxLengthValidator(4000)])),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('verified_at', models.DateTimeField(blank=True, null=True)),
                        ('lab', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='samples', to='labs.lab')),
                        ('owner', models.ForeignKey(on_delete=accounts.models.cascade_unless_verified, related_name='samples', to=settings.AUTH_USER_MODEL)),
                        ('verified_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'classifier_sample',
                        'ordering': ['-created_at', '-id'],
                        'permissions': [('unverify_sample', 'Can un-verify a verified sample, giving a reason')],
                        'constraints': [models.UniqueConstraint(fields=('owner', 'identifier'), name='unique_sample_per_owner'), models.UniqueConstraint(condition=models.Q(('lab__isnull', False)), fields=('lab', 'identifier'), name='unique_sample_per_lab')],
                    },
                ),
                migrations.CreateModel(
                    name='SampleEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('confirmed', 'Confirmed'), ('corrected', 'Corrected'), ('excluded', 'Excluded'), ('verified', 'Verified'), ('unverified', 'Un-verified')], max_length=20)),
                        ('cell', models.CharField(blank=True, help_text="The cell's file name, kept if it is deleted.", max_length=255)),
                        ('from_label', models.CharField(blank=True, help_text="The cell's label before: its class, or 'excluded'.", max_length=20)),
                        ('to_label', models.CharField(blank=True, max_length=20)),
                        ('reason', models.CharField(blank=True, max_length=200)),
                        ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('prediction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='classifier.prediction')),
                        ('sample', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='labs.sample')),
                    ],
                    options={
                        'db_table': 'classifier_sampleevent',
                        'ordering': ['-at', '-id'],
                    },
                ),
            ],
        ),
    ]
