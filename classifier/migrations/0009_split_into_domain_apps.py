# The app split: the user moves to accounts, labs and samples to labs, ModelVersion to registry, and PendingImage
# becomes WaitingImage. Every table keeps its name and every row stays: the state changes, the database does not
# (only django_content_type and auth_permission rows are relabelled, so granted permissions and admin history
# follow the models). A database from before the split is migrated by the accounts app's `migrate`, which records
# accounts' 0001 (state only) as applied first; tests/migrations proves it on a database made by the old code.

import accounts.models
import classifier.models
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = {"user": "accounts", "lab": "labs", "sample": "labs", "sampleevent": "labs", "modelversion": "registry"}
RENAMED = ("pendingimage", "waitingimage")


def _relabel(apps, moves, renames):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model, (old_app, new_app) in moves.items():
        if not ContentType.objects.filter(app_label=new_app, model=model).exists():
            ContentType.objects.filter(app_label=old_app, model=model).update(app_label=new_app)
    old, new = renames
    content_type = ContentType.objects.filter(app_label="classifier", model=old).first()
    if content_type and not ContentType.objects.filter(app_label="classifier", model=new).exists():
        content_type.model = new
        content_type.save(update_fields=["model"])
        for permission in Permission.objects.filter(content_type=content_type, codename__endswith=f"_{old}"):
            permission.codename = permission.codename.replace(old, new)
            permission.name = permission.name.replace("pending image", "waiting image")
            permission.save(update_fields=["codename", "name"])


def forwards(apps, schema_editor):
    _relabel(apps, {model: ("classifier", app) for model, app in MOVED.items()}, RENAMED)


def backwards(apps, schema_editor):
    _relabel(apps, {model: (app, "classifier") for model, app in MOVED.items()}, RENAMED[::-1])


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('classifier', '0008_owners_keep_verified_records'),
        ('accounts', '0001_initial'),
        ('labs', '0001_initial'),
        ('registry', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='prediction',
                    name='owner',
                    field=models.ForeignKey(on_delete=accounts.models.cascade_unless_verified, related_name='predictions', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='prediction',
                    name='reviewed_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='prediction',
                    name='sample',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='predictions', to='labs.sample'),
                ),
                migrations.AlterField(
                    model_name='prediction',
                    name='model_version',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='predictions', to='registry.modelversion'),
                ),
                migrations.AlterField(
                    model_name='prediction',
                    name='cell_crop',
                    field=models.ImageField(blank=True, help_text='JPEG crop around the located cell, made when the cell is classified.', upload_to=classifier.models.upload_to),
                ),
                migrations.AlterModelTable(name='prediction', table='classifier_prediction'),
                migrations.AlterField(
                    model_name='pendingimage',
                    name='owner',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='pendingimage',
                    name='sample',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='waiting_images', to='labs.sample'),
                ),
                migrations.RenameModel(old_name='PendingImage', new_name='WaitingImage'),
                migrations.AlterModelTable(name='waitingimage', table='classifier_pendingimage'),
                migrations.DeleteModel(name='SampleEvent'),
                migrations.DeleteModel(name='Sample'),
                migrations.DeleteModel(name='Lab'),
                migrations.DeleteModel(name='ModelVersion'),
                migrations.DeleteModel(name='User'),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
