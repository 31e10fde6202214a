"""Fixtures of the media sweep's two entries, the command and the daily task."""

import os
import time

import pytest

from tests.factories import prediction_make


@pytest.fixture
def planted(isolated_media, user):
    """A kept prediction, one whose image is gone, two old orphan files and one just written (an upload whose row
    is not committed yet)."""
    kept = prediction_make(None, owner=user, filename="kept.jpeg")
    lost = prediction_make(None, owner=user, filename="lost.jpeg")
    (isolated_media / lost.image.name).unlink()
    orphans = [isolated_media / "predictions" / "ab" / "orphan.jpeg", isolated_media / "predictions" / "orphan.png"]
    two_hours_ago = time.time() - 2 * 3600
    for path in orphans:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind")
        os.utime(path, (two_hours_ago, two_hours_ago))
    (isolated_media / "predictions" / "fresh.jpeg").write_bytes(b"uploading")
    return kept, lost, orphans
