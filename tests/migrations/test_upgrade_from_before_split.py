"""A database made before the app split (``before_split.sql``, built by ``build_main_database.py`` with the code of
that time) upgrades with ``manage.py migrate``: every row of every table stays as it was (in the columns it had),
every stored file stays, granted permissions and the admin's history follow the moved models, and no migration is
missing. What later migrations made or dropped is named below."""

import sqlite3
from pathlib import Path

from tests.migrations.before_split import FILE_COLUMNS, manage

# Relabelled by classifier 0009 (the models moved app, or were renamed): compared apart, below.
RELABELLED = {"django_content_type", "auth_permission"}
NOT_DATA = {"django_migrations", "sqlite_sequence"}  # what migrations applied; SQLite's id counters
# Models made since the split (columns added to the old tables are not compared), and the table dropped: Django REST
# framework's tokens, hashed into accounts_apitoken (accounts 0002, tests/migrations/test_api_tokens_hashed.py).
MADE_MODELS = {("accounts", "apitoken"), ("classifier", "sampleupload")}
MADE = {f"{app}_{model}" for app, model in MADE_MODELS}
DROPPED = {"authtoken_token"}
CHECKS = """
from django.contrib.auth.models import Permission
from accounts.models import User
from classifier.models import Prediction, WaitingImage
from labs.models import Lab, Sample
from registry.models import ModelVersion
from labs.selectors import sample_review_counts
uma, rita = User.objects.get(username="uma"), User.objects.get(username="rita")
assert uma.has_perm("labs.unverify_sample") and not rita.has_perm("labs.unverify_sample")
assert rita.has_perm("classifier.review_prediction") and not uma.has_perm("classifier.review_prediction")
assert Permission.objects.filter(codename="view_waitingimage", content_type__app_label="classifier").exists()
assert Lab.objects.get().members.count() == 2 and Sample.objects.get(identifier="S-VERIFIED").is_verified
assert sample_review_counts(Sample.objects.get(identifier="S-OPEN")) == {
    "total": 3, "reviewed": 2, "confirmed": 0, "corrected": 1, "excluded": 1}
assert WaitingImage.objects.get().sample.identifier == "S-OPEN"
assert {p.model_version for p in Prediction.objects.all()} == {ModelVersion.objects.get()}
for prediction in Prediction.objects.all():
    assert prediction.image.storage.exists(prediction.image.name), prediction.image.name
import hashlib
for image in [*Prediction.objects.filter(sample__isnull=False), *WaitingImage.objects.all()]:
    assert image.image_sha256 == hashlib.sha256(image.image.read()).hexdigest(), image.image.name
assert Prediction.objects.get(sample__isnull=True).image_sha256 == ""  # only sample images are compared
print("upgraded")
"""


def _tables(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, list]:
    """Every table's rows, of the ``columns`` each table had (all columns when not given), as sorted text."""
    with sqlite3.connect(path) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        selected = {name: ", ".join(f'"{column}"' for column in columns[name]) if columns and name in columns else "*"
                    for name in names}
        return {name: sorted(map(repr, connection.execute(f'SELECT {selected[name]} FROM "{name}"'))) for name in names}


def _columns(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: [row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')] for name in names}


def test_migrate_keeps_every_row_and_file_and_relabels_the_moved_models(database_before_split):
    database, media, files = database_before_split
    before, columns = _tables(database), _columns(database)
    contents = {path: path.read_bytes() for path in files}

    migrated = manage("migrate", "--noinput", database=database, media=media)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "Recorded accounts.0001_initial" in migrated.stdout

    after = _tables(database, columns)
    assert set(after) == set(before) - DROPPED | MADE  # no other table made, dropped or renamed
    for table in set(before) - RELABELLED - NOT_DATA - DROPPED:
        assert after[table] == before[table], table
    # moved, and only the new models' made (four permissions each)
    assert len(after["django_content_type"]) == len(before["django_content_type"]) + len(MADE_MODELS)
    assert len(after["auth_permission"]) == len(before["auth_permission"]) + 4 * len(MADE_MODELS)
    with sqlite3.connect(database) as connection:
        labels = set(connection.execute("SELECT app_label, model FROM django_content_type"))
    assert {("accounts", "user"), ("labs", "lab"), ("labs", "sample"), ("labs", "sampleevent"),
            ("registry", "modelversion"), ("classifier", "prediction"), ("classifier", "waitingimage")} <= labels
    assert not {label for label in labels if label[0] == "classifier"} - {("classifier", "prediction"),
                                                                         ("classifier", "waitingimage")} - MADE_MODELS
    assert {path: path.read_bytes() for path in files} == contents

    checked = manage("shell", "-c", CHECKS, database=database, media=media)
    assert checked.returncode == 0 and "upgraded" in checked.stdout, checked.stdout + checked.stderr
    unchanged = manage("makemigrations", "--check", "--dry-run", database=database, media=media)
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
