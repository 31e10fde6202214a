"""``manage.py media_sweep``: lists stored files no row points to and rows whose files are missing; a dry run
unless ``--delete``, which removes only the orphan files, never a fresh upload's file."""

import os
import time
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import prediction_make

pytestmark = pytest.mark.django_db
TWO_HOURS_AGO = time.time() - 2 * 3600


def sweep(*args) -> list[str]:
    out = StringIO()
    call_command("media_sweep", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture
def planted(isolated_media, user):
    """A kept prediction, one whose image is gone, two old orphan files and one just written (an upload whose row
    is not committed yet)."""
    kept = prediction_make(None, owner=user, filename="kept.jpeg")
    lost = prediction_make(None, owner=user, filename="lost.jpeg")
    (isolated_media / lost.image.name).unlink()
    orphans = [isolated_media / "predictions" / "ab" / "orphan.jpeg", isolated_media / "predictions" / "orphan.png"]
    for path in orphans:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind")
        os.utime(path, (TWO_HOURS_AGO, TWO_HOURS_AGO))
    (isolated_media / "predictions" / "fresh.jpeg").write_bytes(b"uploading")
    return kept, lost, orphans


def test_the_dry_run_lists_orphans_and_missing_files_and_deletes_nothing(planted):
    kept, lost, orphans = planted
    assert sweep() == [
        "orphan: predictions/ab/orphan.jpeg",
        "orphan: predictions/orphan.png",
        f"missing: {lost.image.name}",
        "2 file(s) no row points to, left (--delete removes them); 1 row file(s) missing.",
    ]
    assert all(path.exists() for path in orphans)


def test_delete_removes_only_the_old_orphans(planted, isolated_media):
    kept, lost, orphans = planted
    assert sweep("--delete")[-1] == "2 file(s) no row points to, deleted; 1 row file(s) missing."
    assert not any(path.exists() for path in orphans)
    assert (isolated_media / "predictions" / "fresh.jpeg").exists()
    assert (isolated_media / kept.image.name).exists() and (isolated_media / kept.preview.name).exists()
    assert sweep()[-1] == "0 file(s) no row points to, left (--delete removes them); 1 row file(s) missing."


def test_an_empty_media_folder_sweeps_clean(isolated_media):
    assert sweep() == ["0 file(s) no row points to, left (--delete removes them); 0 row file(s) missing."]
