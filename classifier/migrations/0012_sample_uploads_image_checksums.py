# A sample's uploads as their senders declared them, and the sha256 of every stored image, by which a file sent
# again to its sample is recognised and stored once. The images already in samples (cells and waiting images) are
# hashed from their stored files; one whose file is missing keeps no checksum (media_sweep lists it).

import hashlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def hash_stored_images(apps, schema_editor):
    for model_name, in_samples in (("Prediction", {"sample__isnull": False}), ("WaitingImage", {})):
        model = apps.get_model("classifier", model_name)
        storage = model._meta.get_field("image").storage
        for pk, name in list(model.objects.filter(image_sha256="", **in_samples).values_list("pk", "image")):
            digest = hashlib.sha256()
            try:
                with storage.open(name, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
            except OSError:  # the file is gone: nothing to recognise it by
                continue
            model.objects.filter(pk=pk).update(image_sha256=digest.hexdigest())


class Migration(migrations.Migration):

    dependencies = [
        ('classifier', '0011_prediction_cell_box'),
        ('labs', '0001_initial'),
        ('registry', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SampleUpload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('expected_count', models.PositiveIntegerField(help_text='Files the upload said it sends (a ZIP counts as one).')),
                ('received_count', models.PositiveIntegerField(default=0, help_text='Files of it that arrived: stored, already in the sample, or refused with a reason.')),
                ('started_at', models.DateTimeField(auto_now_add=True)),
                ('receiving_until', models.DateTimeField(blank=True, help_text='Set while a request of the upload runs: the moment past which it can only have been killed.', null=True)),
            ],
            options={
                'ordering': ['-started_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='prediction',
            name='image_sha256',
            field=models.CharField(blank=True, help_text='Of the uploaded bytes: a file sent again to its sample is stored once.', max_length=64),
        ),
        migrations.AddField(
            model_name='waitingimage',
            name='image_sha256',
            field=models.CharField(blank=True, help_text='Of the uploaded bytes.', max_length=64),
        ),
        migrations.AddIndex(
            model_name='prediction',
            index=models.Index(fields=['sample', 'image_sha256'], name='classifier__sample__09ae79_idx'),
        ),
        migrations.AddIndex(
            model_name='waitingimage',
            index=models.Index(fields=['sample', 'image_sha256'], name='classifier__sample__40826d_idx'),
        ),
        migrations.AddField(
            model_name='sampleupload',
            name='sample',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='uploads', to='labs.sample'),
        ),
        migrations.AddField(
            model_name='sampleupload',
            name='sender',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(hash_stored_images, migrations.RunPython.noop),
    ]
