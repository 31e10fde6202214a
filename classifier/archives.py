"""Safe expansion of a ZIP of cell images: no path traversal, no zip bombs, one report per bad member."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.files.uploadedfile import SimpleUploadedFile

MAX_MEMBERS = 2000
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # what a ZIP may expand to, in all
MAX_RATIO = 100  # JPEG and PNG barely compress; a member that shrank 100-fold is a bomb
_IGNORED_PREFIXES = ("__MACOSX/", ".")


class ArchiveRejected(Exception):
    """The ZIP as a whole cannot be used; the message says why."""


@dataclass(frozen=True)
class MemberFailure:
    filename: str
    reason: str


def _safe_name(name: str) -> str | None:
    """The member's path if it stays inside the archive, else None (absolute, ``..``, drive letters)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return None
    return str(path)


def _is_ignored(name: str) -> bool:
    """Mac metadata and hidden files, which nobody means to upload."""
    return name.startswith(_IGNORED_PREFIXES) or PurePosixPath(name).name.startswith(".")


def _open(upload) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveRejected(f"{upload.name}: not a readable ZIP file ({error}).") from error


def zip_file_count(upload) -> int:
    """How many files ``zip_expand`` would hand on (or report), read from the directory alone; an unreadable
    archive counts as the one file it is."""
    try:
        archive = _open(upload)
    except ArchiveRejected:
        return 1
    with archive:
        return sum(
            1 for info in archive.infolist() if not info.is_dir() and not _is_ignored(_safe_name(info.filename) or "")
        )


def zip_expand(upload, *, max_member_bytes: int) -> tuple[list[SimpleUploadedFile], list[MemberFailure]]:
    """Every file member as an upload named by its path in the archive; folders and Mac metadata skipped."""
    with _open(upload) as archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise ArchiveRejected(f"{upload.name}: {len(members)} files; at most {MAX_MEMBERS} per ZIP.")
        expanded, failures, total = [], [], 0
        for info in members:
            name = _safe_name(info.filename)
            if name is None:
                failures.append(MemberFailure(info.filename, f"{info.filename}: unsafe path in the ZIP; skipped."))
                continue
            if _is_ignored(name):
                continue
            if info.file_size > max_member_bytes:
                failures.append(
                    MemberFailure(
                        name,
                        f"{name}: {info.file_size / 2**20:.1f} MB expanded; the limit "
                        f"is {max_member_bytes / 2**20:.0f} MB.",
                    )
                )
                continue
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                raise ArchiveRejected(
                    f"{upload.name}: {name} expands {info.file_size // info.compress_size}-fold; "
                    "refusing a likely zip bomb."
                )
            data = _read_limited(archive, info, max_member_bytes)
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise ArchiveRejected(f"{upload.name}: expands to more than {MAX_TOTAL_BYTES // 2**20} MB.")
            expanded.append(SimpleUploadedFile(name, data))
        return expanded, failures


def _read_limited(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read at most ``limit`` bytes whatever the header claims (headers can lie)."""
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        # zipfile stops at the size the header claims, so a header that lies surfaces as a CRC or stream error.
        raise ArchiveRejected(f"{info.filename}: its content does not match its header ({error}).") from error
    if len(data) > limit:
        raise ArchiveRejected(f"{info.filename}: expands past {limit / 2**20:.0f} MB despite its header.")
    return data
