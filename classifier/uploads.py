"""Upload checks: which files may be classified, before anything is stored (nothing here writes).

The accepted formats are ``ml.preprocessing.ALLOWED_FORMATS`` (through the gateway); the file-name
extensions and MIME types that go with them are Pillow's own tables.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from classifier import model_gateway
from classifier.archives import ArchiveRejected, zip_expand, zip_file_count

FORMATS = sorted(model_gateway.ALLOWED_FORMATS)
EXTENSION_FORMATS = {
    extension: name
    for extension, name in sorted(Image.registered_extensions().items())
    if name in model_gateway.ALLOWED_FORMATS
}


def formats_text(conjunction: str = "or") -> str:
    """The accepted formats in words for help texts and messages: "BMP, JPEG, PNG or TIFF"."""
    return f"{', '.join(FORMATS[:-1])} {conjunction} {FORMATS[-1]}"


# The file chooser's ``accept``: every extension and MIME type of the accepted formats.
ACCEPT = ",".join([*EXTENSION_FORMATS, *(Image.MIME[name] for name in FORMATS)])
ZIP_ACCEPT = f"{ACCEPT},.zip,application/zip"


class UploadRejected(Exception):
    """One uploaded file cannot be classified; the message says why, in words for the user."""


@dataclass(frozen=True)
class UploadFailure:
    filename: str
    reason: str
    origin: int | None = None  # which of the request's files it is, or came out of (a ZIP); ``uploads_check``'s


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    data: bytes
    rgb: object  # the decoded pixels; None when the request does not classify (``decode=False``)
    sha256: str  # of ``data``: the same file sent again to a sample is recognised by it
    size: tuple[int, int]  # (width, height) of the file as sent, from its header
    origin: int | None = None  # which of the request's files it is, or came out of (a ZIP)


class PixelBudget:
    """The pixels one request may decode in all (``HEMATOVISION_MAX_REQUEST_PIXELS``): decoding time is
    bounded per request whatever it carries; files past the budget are refused one by one."""

    def __init__(self, limit: int):
        self.limit = limit
        self.left = limit

    def spend(self, filename: str, pixels: int) -> None:
        if pixels > self.left:
            raise UploadRejected(
                f"{filename}: this upload already holds {self.limit - self.left:,} of the "
                f"{self.limit:,} pixels one upload may decode; send this file in another upload."
            )
        self.left -= pixels


def upload_check(upload: UploadedFile, budget: PixelBudget | None = None, decode: bool = True) -> CheckedUpload:
    """Reject empty, oversized, disguised, corrupt and bomb files before anything is stored.

    With ``decode`` the pixels are kept for classifying in the request; without, the data is only verified
    (``model_gateway.verify``) and the worker that classifies it decodes it, once.
    """
    filename = PurePath(upload.name or "upload").name[:255]
    expected_format = EXTENSION_FORMATS.get(PurePath(filename).suffix.lower())
    if expected_format is None:
        raise UploadRejected(f"{filename}: only {formats_text('and')} files are accepted.")
    if not upload.size:
        raise UploadRejected(f"{filename}: the file is empty.")
    limit = settings.HEMATOVISION_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise UploadRejected(
            f"{filename}: the file is {upload.size / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB."
        )
    data = upload.read()
    size = (0, 0)

    def header_check(actual_format: str, width: int, height: int) -> None:
        nonlocal size
        size = (width, height)
        if budget is not None:
            budget.spend(filename, width * height)
        if actual_format != expected_format:
            raise UploadRejected(
                f"{filename}: the name says {expected_format} but the content is {actual_format}; "
                "rename the file or export it again."
            )

    rgb = None
    try:
        if decode:
            rgb = model_gateway.decode(data, header_check)
        else:
            model_gateway.verify(data, header_check)
    except model_gateway.ImageError as error:
        raise UploadRejected(f"{filename}: {error}") from error
    return CheckedUpload(filename=filename, data=data, rgb=rgb, sha256=hashlib.sha256(data).hexdigest(), size=size)


def _is_zip(upload: UploadedFile) -> bool:
    return PurePath(upload.name or "").suffix.lower() == ".zip"


def uploads_count_check(uploads: list[UploadedFile]) -> int:
    """The number of files in the request, each ZIP's members counted; over the limit is refused whole."""
    count = sum(zip_file_count(upload) if _is_zip(upload) else 1 for upload in uploads)
    limit = settings.HEMATOVISION_MAX_FILES_PER_UPLOAD
    if count > limit:
        raise ValidationError(
            f"This upload holds {count} files (ZIP contents included); at most {limit} files "
            "per upload. Send them in several uploads.",
            code="too_many_files",
        )
    return count


def uploads_expand(uploads: list[UploadedFile]) -> tuple[list[UploadedFile], list[UploadFailure]]:
    """Replace each ``.zip`` upload by its image members; a bad archive is one failure, not a crash."""
    expanded, failures = [], []
    for upload in uploads:
        if not _is_zip(upload):
            expanded.append(upload)
            continue
        try:
            members, member_failures = zip_expand(upload, max_member_bytes=settings.HEMATOVISION_MAX_UPLOAD_BYTES)
        except ArchiveRejected as error:
            failures.append(UploadFailure(filename=PurePath(upload.name).name, reason=str(error)))
            continue
        expanded.extend(members)
        failures.extend(UploadFailure(filename=item.filename, reason=item.reason) for item in member_failures)
    return expanded, failures


def uploads_check(
    uploads: list[UploadedFile],
    budget: PixelBudget | None = None,
    origins: list[int] | None = None,
    decode: bool = True,
) -> tuple[list[CheckedUpload], list[UploadFailure]]:
    """Every acceptable file of ``uploads`` (no ZIPs: expand them first), decoded, and one failure with its reason
    per file that is not, each marked with its ``origins`` entry; ``decode`` as in ``upload_check``. Callers pass
    a few files at a time: the decoded pixels are held until classified."""
    checked, failures = [], []
    for upload, origin in zip(uploads, origins or [None] * len(uploads), strict=True):
        try:
            checked.append(dataclasses.replace(upload_check(upload, budget, decode), origin=origin))
        except UploadRejected as error:
            name = PurePath(upload.name or "upload").name
            failures.append(UploadFailure(filename=name, reason=str(error), origin=origin))
    return checked, failures
