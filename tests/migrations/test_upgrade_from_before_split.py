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
# Made by migrations after the split: the signed-report revisions (labs 0002, one for S-VERIFIED from its audit
# trail), the Senior reviewers group with the un-verify permission (labs 0003), the labs' model history with its
# adapt-model permission (labs 0004), the hashed API tokens (accounts 0002, tests/migrations/test_api_tokens_hashed.py)
# and the sample uploads (classifier 0012); Django REST framework's plain-key tokens dropped. Compared apart, below.
NEW_TABLES = {"labs_reportrevision", "labs_labmodelchange", "accounts_apitoken", "classifier_sampleupload"}
DROPPED = {"authtoken_token"}
GAINED_ROWS = {"auth_group": 1, "auth_group_permissions": 1}
NEW_CONTENT_TYPES = {  # with their four permissions each
    ("labs", "reportrevision"),
    ("labs", "labmodelchange"),
    ("accounts", "apitoken"),
    ("classifier", "sampleupload"),
}
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
import hashlib
for image in [*Prediction.objects.filter(sample__isnull=False), *WaitingImage.objects.all()]:
    assert image.image_sha256 == hashlib.sha256(image.image.read()).hexdigest(), image.image.name
assert Prediction.objects.get(sample__isnull=True).image_sha256 == ""  # only sample images are compared
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


# Columns added by migrations after the split, with the value every upgraded row gets (ANY: computed per row).
ANY = object()
ADDED_SINCE = {
    # 0011: not known for older cells; 0012; 0013: not recorded before it
    "classifier_prediction": {"cell_box": "[]", "image_sha256": ANY, "runtime": ""},
    "classifier_pendingimage": {"image_sha256": ANY},  # classifier 0012: the checksum of the stored file
    "classifier_lab": {"active_model_id": None},  # labs 0004: every lab starts on the shared model
}


def _column_names(connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}


def test_migrate_keeps_every_row_and_file_and_relabels_the_moved_models(database_before_split):
    database, media, files = database_before_split
    columns = _columns(database)
    before = _tables(database, columns)
    contents = {path: path.read_bytes() for path in files}

    migrated = manage("migrate", "--noinput", database=database, media=media)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "Recorded accounts.0001_initial" in migrated.stdout

    assert set(_columns(database)) == set(columns) - DROPPED | NEW_TABLES  # no other table made, dropped or renamed
    after = _tables(database, {table: select for table, select in columns.items() if table not in DROPPED})
    for table in set(before) - RELABELLED - NOT_DATA - set(GAINED_ROWS) - DROPPED:
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
                if value is ANY:
                    continue
                assert {row for (row,) in connection.execute(f'SELECT "{column}" FROM "{table}"')} == {value}
    with sqlite3.connect(database) as connection:
        labels = set(connection.execute("SELECT app_label, model FROM django_content_type"))
    assert {("accounts", "user"), ("labs", "lab"), ("labs", "sample"), ("labs", "sampleevent"),
            ("registry", "modelversion"), ("classifier", "prediction"), ("classifier", "waitingimage"),
            *NEW_CONTENT_TYPES} <= labels
    assert not {label for label in labels if label[0] == "classifier"} - {("classifier", "prediction"),
                                                                         ("classifier", "waitingimage")} - NEW_CONTENT_TYPES
    assert {path: path.read_bytes() for path in files} == contents

    checked = manage("shell", "-c", CHECKS, database=database, media=media)
    assert checked.returncode == 0 and "upgraded" in checked.stdout, checked.stdout + checked.stderr
    unchanged = manage("makemigrations", "--check", "--dry-run", database=database, media=media)
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
