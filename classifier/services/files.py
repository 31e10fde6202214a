"""Stored files of deleted rows: removed only once the deletion commits, each failure logged, never raised."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import transaction

from classifier.models import Prediction
from classifier.selectors import media_orphans

FILE_DELETE_ATTEMPTS = 3
logger = logging.getLogger("hematovision.storage")


def stored_files(prediction: Prediction) -> list:
    """(storage, name) of every file the prediction holds."""
    return [
        (field.storage, field.name)
        for field in (prediction.image, prediction.preview, prediction.gradcam, prediction.cell_crop)
        if field.name
    ]


def storage_delete(storage, name: str) -> bool:
    """Delete one stored file, trying again on a storage fault; a file that stays is logged, never raised."""
    for attempt in range(1, FILE_DELETE_ATTEMPTS + 1):
        try:
            storage.delete(name)
            return True
        except Exception as error:  # noqa: BLE001 - any backend's fault (OSError, an S3 client error)
            if attempt == FILE_DELETE_ATTEMPTS:
                logger.error(
                    "Could not delete the stored file %s after %d attempts (%s); its row is gone: remove the "
                    "file by hand.",
                    name,
                    attempt,
                    error,
                )
                return False
            time.sleep(0.05 * attempt)
    return False


def files_delete(files: list) -> None:
    """Delete (storage, name) pairs now: the files of rows that were never saved."""
    for storage, name in files:
        storage_delete(storage, name)


@dataclass
class FileCleanup:
    """The stored files of deleted rows, removed once the deletion commits (a rolled-back deletion keeps them);
    ``left`` names the files storage would not remove, each one logged."""

    files: list
    left: list[str] = field(default_factory=list)

    def run(self) -> None:
        self.left = [name for storage, name in self.files if not storage_delete(storage, name)]


def files_delete_on_commit(predictions, waiting=(), fields=()) -> FileCleanup:
    """Files go only after the rows: a failed file delete leaves an orphan file (logged), never a row without
    its image. ``fields``: other stored files of the rows deleted (a sample's signed reports)."""
    files = [item for prediction in predictions for item in stored_files(prediction)]
    files += [(image.image.storage, image.image.name) for image in waiting]
    files += [(field.storage, field.name) for field in fields if field.name]
    cleanup = FileCleanup(files)
    transaction.on_commit(cleanup.run)
    return cleanup


def media_sweep(*, delete: bool) -> tuple[list[str], list[str]]:
    """``media_orphans()``; with ``delete`` the orphan files go too. Rows whose files are missing are only listed:
    what they recorded (a verified sample's cells among them) is not ours to drop."""
    orphans, missing = media_orphans()
    if delete:
        for name in orphans:
            storage_delete(default_storage, name)
    return orphans, missing


def media_sweep_report(orphans: list[str], missing: list[str], *, deleted: bool) -> list[str]:
    """The sweep's findings, a line each, then the totals: what ``manage.py media_sweep`` prints and the daily
    dry run (``classifier.tasks.sweep_media``) logs, in the same words."""
    lines = [f"{'deleted' if deleted else 'orphan'}: {name}" for name in orphans]
    lines += [f"missing: {name}" for name in missing]
    done = "deleted" if deleted else "left (--delete removes them)"
    lines.append(f"{len(orphans)} file(s) no row points to, {done}; {len(missing)} row file(s) missing.")
    return lines
