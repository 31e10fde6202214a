"""Build the database the upgrade test starts from: the schema and rows of a deployment before the app split.

Run it with the code of that time (main at 0d570ec, migrations up to classifier 0008), from its checkout:

    git worktree add --detach ../before-split 0d570ec
    cd ../before-split && DATABASE_URL=sqlite:///$PWD/before.sqlite3 HEMATOVISION_MEDIA_ROOT=$PWD/media \
        python manage.py migrate && DATABASE_URL=sqlite:///$PWD/before.sqlite3 HEMATOVISION_MEDIA_ROOT=$PWD/media \
        python manage.py shell < path/to/tests/migrations/build_main_database.py
    python -c "import sqlite3; print('\\n'.join(sqlite3.connect('before.sqlite3').iterdump()))" \
        > path/to/tests/migrations/before_split.sql

It makes, through that code's own services, a lab with two members, a verified sample and an open one with cells,
a confirmed, a corrected and an excluded cell, an image waiting for a worker, the audit trail, a model version, an
API token, the Reviewers group, a user granted the un-verify permission, and an admin log entry.
"""

import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token

from classifier import services
from classifier.models import Lab, ModelVersion, PendingImage, Prediction, Sample, User

alice = User.objects.create_user("alice", password="s3cret-pass-alice", first_name="Alice")
rita = User.objects.create_user("rita", password="s3cret-pass-rita")
uma = User.objects.create_user("uma", password="s3cret-pass-uma", is_staff=True)
rita.groups.add(Group.objects.get(name="Reviewers"))
uma.user_permissions.add(Permission.objects.get(codename="unverify_sample", content_type__app_label="classifier"))
Token.objects.create(user=alice)
lab = Lab.objects.create(name="Haematology North", slug="haematology-north")
lab.members.add(alice, rita)
version = ModelVersion.objects.create(name="before-split", file_path="/models/before.keras", sha256="ab" * 32,
                                      base_network="MobileNetV2", input_size=128, class_names=["EOSINOPHIL"],
                                      trained_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
                                      metrics={"evaluation": {"TEST": {"accuracy": 0.9}}})


def stored(name: str) -> str:
    """A small JPEG written under MEDIA_ROOT: the cells' files, which the upgrade must leave in place."""
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), (200, 120, 180)).save(path, format="JPEG")
    return name


def cell(sample, name, label="NEUTROPHIL", owner=alice):
    for suffix in (".jpeg", "-preview.jpg", "-cell.jpg"):
        stored(f"predictions/{name}{suffix}")
    return Prediction.objects.create(
        owner=owner, sample=sample, image=f"predictions/{name}.jpeg", preview=f"predictions/{name}-preview.jpg",
        cell_crop=f"predictions/{name}-cell.jpg", image_width=320, image_height=240, original_filename=f"{name}.jpeg",
        predicted_label=label, confidence=0.9, probabilities={label: 0.9}, model_version=version, inference_ms=3.0)


verified = services.sample_create(owner=alice, identifier="S-VERIFIED", notes="Routine smear", lab=lab)
for name in ("v1", "v2"):
    services.prediction_review(prediction=cell(verified, name), reviewer=rita, label="NEUTROPHIL")
services.sample_verify(sample=verified, reviewer=rita)
open_sample = services.sample_create(owner=alice, identifier="S-OPEN", lab=lab)
services.prediction_review(prediction=cell(open_sample, "o1", "MONOCYTE"), reviewer=rita, label="LYMPHOCYTE")
services.prediction_exclude(prediction=cell(open_sample, "o2"), reviewer=rita, reason="smudge cell")
cell(open_sample, "o3", "EOSINOPHIL")
cell(None, "single", "LYMPHOCYTE")
PendingImage.objects.create(owner=alice, sample=open_sample, image=stored("predictions/waiting.jpeg"),
                            original_filename="waiting.jpeg", queued_at=timezone.now())
LogEntry.objects.create(user=uma, content_type=ContentType.objects.get_for_model(Lab), object_id=str(lab.pk),
                        object_repr=str(lab), action_flag=ADDITION)
print("built", User.objects.count(), "users,", Prediction.objects.count(), "predictions")
