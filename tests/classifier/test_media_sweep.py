"""``manage.py media_sweep``: lists stored files no row points to and rows whose files are missing; a dry run
unless ``--delete``, which removes only the orphan files, never a fresh upload's file."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def sweep(*args) -> list[str]:
    out = StringIO()
    call_command("media_sweep", *args, stdout=out)
    return out.getvalue().splitlines()


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
