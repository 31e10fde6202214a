"""A database made before the app split (``before_split.sql``, built by ``build_main_database.py`` with the code of
that time) upgrades with ``manage.py migrate``: every row of every table stays as it was, every stored file stays,
granted permissions and the admin's history follow the moved models, and no migration is missing."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environment import PROJECT_DIR

DUMP = Path(__file__).with_name("before_split.sql")
# Relabelled by classifier 0009 (the models moved app, or were renamed): compared apart, below.
RELABELLED = {"django_content_type", "auth_permission"}
NOT_DATA = {"django_migrations", "sqlite_sequence"}  # what migrations applied; SQLite's id counters
# Made by migrations after the split: the signed-report revisions (labs 0002, one for S-VERIFIED from its audit
# trail), the Senior reviewers group with the un-verify permission (labs 0003) and the labs' model history with
# its adapt-model permission (labs 0004); compared apart, below.
NEW_TABLES = {"labs_reportrevision", "labs_labmodelchange"}
GAINED_ROWS = {"auth_group": 1, "auth_group_permissions": 1}
NEW_CONTENT_TYPES = {("labs", "reportrevision"), ("labs", "labmodelchange")}  # with their four permissions each
NEW_CUSTOM_PERMISSIONS = 1  # labs.adapt_model
FILE_COLUMNS = {"classifier_prediction": ("image", "preview", "cell_crop", "gradcam"), "classifier_pendingimage": ("image",)}
CHECKS = """
from django.contrib.auth.models import Permission
from accounts.models import User
from classifier.models import Prediction, WaitingImage
from labs.models import Lab, Sample
from registry.models import ModelVersion
from labs.selectors import sample_review_counts
from django.contrib.auth.models import Group
uma, rita = User.objects.get(username="uma"), User.objects.get(username="rita")
assert uma.has_perm("labs.unverify_sample") and not rita.has_perm("labs.unverify_sample")
assert [p.codename for p in Group.objects.get(name="Senior reviewers").permissions.all()] == ["unverify_sample"]
revision = Sample.objects.get(identifier="S-VERIFIED").revisions.get()
assert (revision.number, revision.verified_by, revision.pdf.name, revision.is_withdrawn) == (1, rita, "", False)
assert rita.has_perm("classifier.review_prediction") and not uma.has_perm("classifier.review_prediction")
assert Permission.objects.filter(codename="view_waitingimage", content_type__app_label="classifier").exists()
assert Lab.objects.get().members.count() == 2 and Sample.objects.get(identifier="S-VERIFIED").is_verified
assert sample_review_counts(Sample.objects.get(identifier="S-OPEN")) == {
    "total": 3, "reviewed": 2, "confirmed": 0, "corrected": 1, "excluded": 1}
assert WaitingImage.objects.get().sample.identifier == "S-OPEN"
assert {p.model_version for p in Prediction.objects.all()} == {ModelVersion.objects.get()}
for prediction in Prediction.objects.all():
    assert prediction.image.storage.exists(prediction.image.name), prediction.image.name
print("upgraded")
"""


def _columns(path: Path) -> dict[str, str]:
    """Each table's columns, as a SELECT list."""
    with sqlite3.connect(path) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: ", ".join(f'"{row[1]}"' for row in connection.execute(f'PRAGMA table_info("{name}")'))
            for name in names
        }


def _tables(path: Path, columns: dict[str, str]) -> dict[str, list]:
    """Every row of the tables in ``columns``, only those columns (columns added since are compared apart)."""
    with sqlite3.connect(path) as connection:
        return {name: sorted(map(repr, connection.execute(f'SELECT {select} FROM "{name}"')))
                for name, select in columns.items()}


# Columns added by migrations after the split, with the value every upgraded row gets.
ADDED_SINCE = {
    "classifier_prediction": {"cell_box": "[]"},  # classifier 0011: not known for older cells
    "classifier_lab": {"active_model_id": None},  # labs 0004: every lab starts on the shared model
}


def _column_names(connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}


def _manage(*args, database: Path, media: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "HEMATOVISION_MEDIA_ROOT": str(media)}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=environment,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def database_before_split(tmp_path) -> tuple[Path, Path, list[Path]]:
    """The dump loaded into a database file, and the files its rows name written under a media folder."""
    database, media = tmp_path / "before.sqlite3", tmp_path / "media"
    with sqlite3.connect(database) as connection:
        connection.executescript(DUMP.read_text())
        names = [name for table, columns in FILE_COLUMNS.items() for column in columns
                 for (name,) in connection.execute(f'SELECT "{column}" FROM "{table}"') if name]
    files = []
    for name in names:
        path = media / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8 a stored image " + name.encode())
        files.append(path)
    return database, media, files


def test_migrate_keeps_every_row_and_file_and_relabels_the_moved_models(database_before_split):
    database, media, files = database_before_split
    columns = _columns(database)
    before = _tables(database, columns)
    contents = {path: path.read_bytes() for path in files}

    migrated = _manage("migrate", "--noinput", database=database, media=media)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "Recorded accounts.0001_initial" in migrated.stdout

    assert set(_columns(database)) == set(columns) | NEW_TABLES  # none dropped or renamed
    after = _tables(database, columns)
    for table in set(before) - RELABELLED - NOT_DATA - set(GAINED_ROWS):
        assert after[table] == before[table], table
    for table, gained in GAINED_ROWS.items():
        assert set(before[table]) <= set(after[table]) and len(after[table]) == len(before[table]) + gained, table
    made = len(NEW_CONTENT_TYPES)  # the rest moved
    assert len(after["django_content_type"]) == len(before["django_content_type"]) + made
    assert len(after["auth_permission"]) == len(before["auth_permission"]) + 4 * made + NEW_CUSTOM_PERMISSIONS
    with sqlite3.connect(database) as connection:
        for table, added in ADDED_SINCE.items():
            before_columns = {column.strip('"') for column in columns[table].split(", ")}
            assert _column_names(connection, table) - before_columns == set(added), table
            for column, value in added.items():
                assert {row for (row,) in connection.execute(f'SELECT "{column}" FROM "{table}"')} == {value}
    with sqlite3.connect(database) as connection:
        labels = set(connection.execute("SELECT app_label, model FROM django_content_type"))
    assert {("accounts", "user"), ("labs", "lab"), ("labs", "sample"), ("labs", "sampleevent"),
            ("registry", "modelversion"), ("classifier", "prediction"), ("classifier", "waitingimage"),
            *NEW_CONTENT_TYPES} <= labels
    assert not {label for label in labels if label[0] == "classifier"} - {("classifier", "prediction"),
                                                                         ("classifier", "waitingimage")}
    assert {path: path.read_bytes() for path in files} == contents

    checked = _manage("shell", "-c", CHECKS, database=database, media=media)
    assert checked.returncode == 0 and "upgraded" in checked.stdout, checked.stdout + checked.stderr
    unchanged = _manage("makemigrations", "--check", "--dry-run", database=database, media=media)
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
