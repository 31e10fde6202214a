"""ZIP uploads: nested folders are fine; bombs, lying headers and escaping paths are refused without harm."""

import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier.archives import ArchiveRejected, zip_expand
from classifier.models import Prediction
from classifier.services.predictions import prediction_create_many
from tests.factories import image_bytes, media_files, zip_upload

MEMBER_LIMIT = 5 * 1024 * 1024


def lying_zip(claimed_size: int = 1000) -> SimpleUploadedFile:
    """One member whose headers claim ``claimed_size`` bytes while its data inflates to about 200 kB."""
    raw = bytearray(zip_upload({"cells/liar.jpeg": b"\0" * 200_000 + bytes(range(256)) * 4}).read())
    struct.pack_into("<I", raw, 22, claimed_size)  # local file header: uncompressed size
    central = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, claimed_size)  # central directory: uncompressed size
    return SimpleUploadedFile("liar.zip", bytes(raw), content_type="application/zip")


def test_nested_folders_are_accepted_and_metadata_skipped():
    upload = zip_upload(
        {
            "smear/field-1/a.jpeg": image_bytes("JPEG"),
            "smear/field-2/b.png": image_bytes("PNG"),
            "smear/": b"",
            "__MACOSX/smear/._a.jpeg": b"junk",
            "smear/.DS_Store": b"junk",
        }
    )
    members, failures = zip_expand(upload, max_member_bytes=MEMBER_LIMIT)
    assert [member.name for member in members] == ["a.jpeg", "b.png"]
    assert [member.read() for member in members] == [image_bytes("JPEG"), image_bytes("PNG")]
    assert failures == []


@pytest.mark.parametrize("unsafe", ["../x.jpeg", "/abs.jpeg", "cells/../../x.jpeg", "C:/x.jpeg", "..\\x.jpeg"])
def test_path_traversal_names_are_rejected_and_the_rest_kept(unsafe):
    members, failures = zip_expand(
        zip_upload({unsafe: image_bytes("JPEG"), "ok.jpeg": image_bytes("JPEG")}), max_member_bytes=MEMBER_LIMIT
    )
    assert [member.name for member in members] == ["ok.jpeg"]
    assert len(failures) == 1 and "unsafe path" in failures[0].reason


def test_member_that_expands_a_hundredfold_is_refused_as_a_bomb():
    with pytest.raises(ArchiveRejected, match="likely zip bomb"):
        zip_expand(zip_upload({"bomb.jpeg": b"\0" * (2 * 1024 * 1024)}), max_member_bytes=MEMBER_LIMIT)


def test_member_whose_header_lies_about_its_size_is_refused():
    with pytest.raises(ArchiveRejected, match="does not match its header"):
        zip_expand(lying_zip(), max_member_bytes=MEMBER_LIMIT)


def test_member_over_the_size_limit_is_reported_not_read():
    members, failures = zip_expand(
        zip_upload(
            {"big.jpeg": image_bytes("JPEG"), "small.jpeg": image_bytes("JPEG")}, compression=zipfile.ZIP_STORED
        ),
        max_member_bytes=len(image_bytes("JPEG")) - 1,
    )
    assert members == [] and [failure.filename for failure in failures] == ["big.jpeg", "small.jpeg"]
    assert "the limit is" in failures[0].reason


def test_not_a_zip_is_rejected_with_its_name():
    with pytest.raises(ArchiveRejected, match="notes.zip: not a readable ZIP"):
        zip_expand(SimpleUploadedFile("notes.zip", b"plain text"), max_member_bytes=MEMBER_LIMIT)


@pytest.mark.django_db
def test_non_image_members_are_reported_one_by_one_and_images_are_classified(user, model_path, isolated_media):
    upload = zip_upload(
        {
            "smear/a.jpeg": image_bytes("JPEG"),
            "smear/readme.txt": b"notes",
            "smear/fake.jpeg": b"not a picture",
            "../escape.jpeg": image_bytes("JPEG"),
        }
    )
    predictions, failures = prediction_create_many(owner=user, uploads=[upload])
    assert [prediction.original_filename for prediction in predictions] == ["a.jpeg"]
    reasons = " ".join(failure.reason for failure in failures)
    assert {failure.filename for failure in failures} == {"readme.txt", "fake.jpeg", "../escape.jpeg"}
    assert "only BMP, JPEG, PNG and TIFF" in reasons and "is not an image" in reasons and "unsafe path" in reasons
    assert not any("escape" in path.name for path in media_files(isolated_media))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_upload",
    [lambda: lying_zip(), lambda: zip_upload({"bomb.jpeg": b"\0" * (2 * 1024 * 1024)})],
    ids=["lying header", "bomb"],
)
def test_a_rejected_zip_is_one_failure_and_other_uploads_still_count(user, model_path, make_upload):
    good = SimpleUploadedFile("good.jpeg", image_bytes("JPEG"), content_type="image/jpeg")
    predictions, failures = prediction_create_many(owner=user, uploads=[make_upload(), good])
    assert [prediction.original_filename for prediction in predictions] == ["good.jpeg"]
    assert len(failures) == 1 and failures[0].filename.endswith(".zip")
    assert Prediction.objects.count() == 1
