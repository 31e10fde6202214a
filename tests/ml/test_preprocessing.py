"""Decoding of every accepted format, refusal of bad files, and train/serve preprocessing parity."""

import io

import numpy as np
import pytest
from PIL import Image

from ml.data import LabelledImage
from ml.preprocessing import ImageError, PreprocessingSpec, decode_image, load_for_model, locate_cell, preprocess
from ml.training import augment, make_dataset
from tests.factories import image_bytes, png_bomb, smear_rgb, truncated_jpeg

SPEC = PreprocessingSpec(input_size=64)


def _pipeline_tensor(path, spec=SPEC) -> np.ndarray:
    images, _ = next(iter(make_dataset([LabelledImage(path, 0, "EOSINOPHIL/0")], spec, batch_size=1, training=False)))
    return images.numpy()[0]


def test_training_pipeline_gives_exactly_the_serving_tensor(tmp_path):
    path = tmp_path / "_0_1.jpeg"
    path.write_bytes(image_bytes("JPEG", smear_rgb(nucleus=(70, 60))))
    assert np.array_equal(_pipeline_tensor(path), load_for_model(path, SPEC))


def test_parity_holds_on_a_real_dataset_file(dataset_dir):
    path = next((dataset_dir / "images" / "TRAIN" / "EOSINOPHIL").glob("*.jpeg"))
    spec = PreprocessingSpec(input_size=224)
    assert np.array_equal(_pipeline_tensor(path, spec), load_for_model(path, spec))


@pytest.mark.parametrize("fmt, mode", [("PNG", None), ("TIFF", None), ("BMP", None), ("PNG", "RGBA"),
                                       ("PNG", "L"), ("TIFF", "I;16"), ("JPEG", "L")])
def test_every_accepted_format_and_mode_decodes_to_rgb(fmt, mode):
    rgb = decode_image(image_bytes(fmt, mode=mode))
    assert rgb.dtype == np.uint8 and rgb.shape == (240, 320, 3)


def test_sixteen_bit_greyscale_keeps_its_contrast():
    ramp = (np.arange(320 * 240, dtype=np.uint32).reshape(240, 320) % 4096).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, format="PNG")
    rgb = decode_image(buffer.getvalue())
    assert rgb.max() == 255 and rgb.min() == 0


@pytest.mark.parametrize("data, message", [(truncated_jpeg(), "corrupt or truncated"),
                                           (b"%PDF-1.4 not an image", "not an image"),
                                           (png_bomb(), "too large|over the limit")])
def test_bad_files_raise_image_error(data, message):
    with pytest.raises(ImageError, match=message):
        decode_image(data)


def test_augmentation_is_reproducible_and_keeps_shape_and_type():
    image = preprocess(smear_rgb(), SPEC)
    first, again = augment(image, [1, 2]), augment(image, [1, 2])
    assert first.dtype.name == "uint8" and first.shape == image.shape
    assert np.array_equal(first.numpy(), again.numpy())


def test_a_full_size_original_is_cropped_like_its_320x240_copy(dataset_dir):
    original_path = sorted((dataset_dir.parent / "dataset-master" / "JPEGImages").glob("*.jpg"))[0]
    original = decode_image(original_path)
    small = np.asarray(Image.fromarray(original).resize((320, 240), Image.BILINEAR))
    assert original.shape[:2] == (480, 640)
    big_cell, small_cell = locate_cell(original), locate_cell(small)
    assert big_cell.nucleus_found and small_cell.nucleus_found
    assert abs(big_cell.x / 2 - small_cell.x) < 3 and abs(big_cell.y / 2 - small_cell.y) < 3
    spec = PreprocessingSpec(input_size=224)
    difference = np.abs(preprocess(original, spec).astype(int) - preprocess(small, spec).astype(int))
    assert difference.mean() < 8
