"""Bounded memory and time per upload: large images shrink as they decode, files go through the model a few at
a time, a request's pixels are budgeted, and ZIP members count toward the per-request file limit."""

import io
import tracemalloc

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from classifier import model_gateway
from classifier.models import Prediction
from classifier.services.predictions import CLASSIFY_CHUNK_FILES, prediction_create_many
from classifier.uploads import uploads_count_check
from tests.factories import image_bytes, smear_rgb, upload_file, zip_of, zip_upload

pytestmark = pytest.mark.django_db


def huge_png(side: int = 6000) -> bytes:
    """A black grey-scale PNG of ``side`` x ``side``: a few hundred kB on the wire, 100 MB as RGB pixels."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_large_image_is_shrunk_to_the_decode_limit_as_it_decodes(fmt):
    rgb = model_gateway.decode(image_bytes(fmt, rgb=smear_rgb(width=5000, height=2500)))
    assert rgb.shape == (model_gateway.DECODE_MAX_SIDE // 2, model_gateway.DECODE_MAX_SIDE, 3)


def test_a_small_image_decodes_at_its_own_size():
    assert model_gateway.decode(image_bytes("PNG")).shape == (240, 320, 3)


def test_decoding_a_huge_png_never_holds_its_full_size_pixels():
    data = huge_png()
    tracemalloc.start()
    try:
        rgb = model_gateway.decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rgb.shape == (model_gateway.DECODE_MAX_SIDE, model_gateway.DECODE_MAX_SIDE, 3)
    assert peak < 40 * 2**20  # the full 6000 x 6000 RGB array alone would be 103 MB


def test_files_are_decoded_and_classified_a_chunk_at_a_time(user, model_path, monkeypatch):
    batches = []
    classify = model_gateway.classify
    monkeypatch.setattr(
        model_gateway,
        "classify",
        lambda images, lab_model=None: batches.append(len(images)) or classify(images, lab_model),
    )
    uploads = [upload_file(f"cell-{index}.jpeg") for index in range(CLASSIFY_CHUNK_FILES * 2 + 3)]
    predictions, failures = prediction_create_many(owner=user, uploads=uploads)
    assert batches == [CLASSIFY_CHUNK_FILES, CLASSIFY_CHUNK_FILES, 3]
    assert len(predictions) == len(uploads) and failures == []
    assert [p.original_filename for p in predictions] == [u.name for u in uploads]


def test_files_past_the_request_pixel_budget_are_refused_one_by_one(user, model_path, settings):
    settings.HEMATOVISION_MAX_REQUEST_PIXELS = 2 * 320 * 240
    uploads = [upload_file(f"cell-{index}.jpeg") for index in range(3)]
    predictions, failures = prediction_create_many(owner=user, uploads=uploads)
    assert [p.original_filename for p in predictions] == ["cell-0.jpeg", "cell-1.jpeg"]
    [failure] = failures
    assert failure.filename == "cell-2.jpeg"
    assert "153,600 pixels" in failure.reason and "another upload" in failure.reason


def zip_of_cells(count: int):
    members = {f"smear/cell-{index}.jpeg": image_bytes("JPEG") for index in range(count)}
    members["__MACOSX/smear/._cell-0.jpeg"] = b"metadata, not counted"
    return zip_upload(members)


def test_zip_members_count_toward_the_file_limit(settings):
    settings.HEMATOVISION_MAX_FILES_PER_UPLOAD = 4
    assert uploads_count_check([zip_of_cells(3), upload_file()]) == 4
    with pytest.raises(ValidationError) as refused:
        uploads_count_check([zip_of_cells(4), upload_file()])
    assert "5 files (ZIP contents included); at most 4" in refused.value.messages[0]


def test_an_upload_over_the_limit_is_refused_whole_before_anything_is_classified(
    user, model_path, settings, monkeypatch
):
    settings.HEMATOVISION_MAX_FILES_PER_UPLOAD = 3
    monkeypatch.setattr(model_gateway, "classify", lambda images: pytest.fail("nothing may be classified"))
    with pytest.raises(ValidationError, match="4 files"):
        prediction_create_many(owner=user, uploads=[zip_of_cells(4)])
    assert not Prediction.objects.exists()


def test_an_empty_zip_says_there_is_nothing_to_classify(user, model_path):
    with pytest.raises(ValidationError, match="Nothing to classify: the upload held no images."):
        prediction_create_many(owner=user, uploads=[upload_file("empty.zip", zip_of({}), "application/zip")])


def test_decode_limit_leaves_the_stored_original_untouched(user, model_path):
    data = image_bytes("PNG", rgb=np.zeros((100, 3000, 3), np.uint8))
    [prediction], _ = prediction_create_many(owner=user, uploads=[upload_file("wide.png", data, "image/png")])
    assert (prediction.image_width, prediction.image_height) == (3000, 100)
    with prediction.image.open("rb") as handle:
        assert handle.read() == data
