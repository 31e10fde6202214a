"""Image loading and the one preprocessing function shared by training and serving.

A white cell fills a small part of a smear photo, so the model sees a square crop centred on its
nucleus (the largest purple-stained blob and the lobes beside it; red cells stain pink). The crop side
is a multiple of the nucleus's own size (the square root of its area), not of the frame: instruments
differ in magnification and frame size, and the same cell photographed at another magnification, or
placed in a larger frame, then gives the same crop.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError
from scipy import ndimage

ALLOWED_FORMATS = {"JPEG", "PNG", "TIFF", "BMP"}
DEFAULT_MAX_PIXELS = 40_000_000
_LOCATE_SIDE = 400  # larger images are located on a copy whose longer side is this, for speed
_PURPLE_MARGIN = 50  # blue minus green, in 8-bit levels: nuclei are far bluer than red cells or plasma
_MIN_NUCLEUS_PIXELS = 60  # at locating resolution; smaller blobs are platelets or noise, not a nucleus
_LOBE_REACH = 1.5  # blobs this many nucleus sizes from the largest one are its lobes (neutrophils)
_MIN_LOBE_SHARE = 0.05  # lobes smaller than this share of the largest blob are granules or noise


class ImageError(ValueError):
    """The upload is not an image we can read; the message is fit to show to the user."""


@dataclass(frozen=True)
class PreprocessingSpec:
    input_size: int = 224
    # Side of the square crop in nucleus sizes. 2.8 gives Kaggle's typical cell the crop of half the frame
    # width that cross-validation chose before the crop followed the cell (docs/experiments.md, "Crop that
    # follows the cell").
    crop_scale: float = 2.8
    normalisation: str = "none"  # one of ``NORMALISATIONS``, applied to the crop

    def to_dict(self) -> dict:
        return {"method": "cell_crop", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> PreprocessingSpec:
        if data.get("method") != "cell_crop":
            raise ValueError(f"Unknown preprocessing {data.get('method')!r}: retrain the model with this version.")
        normalisation = data.get("normalisation", "none")  # artifacts from before it existed had none
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"Unknown input normalisation {normalisation!r}: retrain the model with this version.")
        return cls(
            input_size=int(data["input_size"]), crop_scale=float(data["crop_scale"]), normalisation=normalisation
        )


@dataclass(frozen=True)
class CellLocation:
    x: float
    y: float
    nucleus_found: bool
    nucleus_size: float  # square root of the nucleus area, in pixels of the image (0 when none was found)


HeaderCheck = Callable[[str, int, int], None]  # (format, width, height): once the header is read, before decoding


def decode_image(
    source: bytes | str | Path | BinaryIO,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
    on_header: HeaderCheck | None = None,
) -> np.ndarray:
    """Decode JPEG/PNG/TIFF/BMP of any mode into an RGB uint8 array, refusing bombs and truncated files.

    With ``max_side``, a larger image is shrunk as it decodes (JPEG at a reduced DCT scale, others right after
    loading, before the RGB copy), so serving never holds a huge array. ``on_header`` may refuse the file (by
    raising) from its header alone, so the file is opened once.
    """
    with _checked_image(source, max_pixels, on_header) as image:
        if max_side and max(image.size) > max_side:
            image.thumbnail((max_side, max_side))
        image.load()
        return _to_rgb(image)


def verify_image(
    source: bytes | BinaryIO, max_pixels: int = DEFAULT_MAX_PIXELS, on_header: HeaderCheck | None = None
) -> None:
    """Refuse what ``decode_image`` refuses, without keeping the pixels (``on_header`` sees the header): for
    checking a file whose pixels another process decodes (a worker).

    A JPEG is decoded at 1/8 of its size (the DCT's own scaling: every coded byte is still read, so truncation
    and corruption are still found, at a fraction of the cost); other formats are decoded and dropped.
    """
    with _checked_image(source, max_pixels, on_header) as image:
        width, height = image.size
        image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
        image.load()


@contextmanager
def _checked_image(
    source: bytes | str | Path | BinaryIO, max_pixels: int, on_header: HeaderCheck | None
) -> Iterator[Image.Image]:
    """The opened image, once its format and size are checked; Pillow's errors, raised while it is used,
    as ``ImageError`` with a message fit for the user."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with Image.open(stream) as image:
            if image.format not in ALLOWED_FORMATS:
                raise ImageError(f"Unsupported image format {image.format}; use JPEG, PNG, TIFF or BMP.")
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(f"Image is {width}x{height} pixels, over the limit of {max_pixels:,} pixels.")
            if on_header is not None:
                on_header(image.format, width, height)
            yield image
    except ImageError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageError(f"Image is too large to decode safely: over the limit of {max_pixels:,} pixels.") from error
    except UnidentifiedImageError as error:
        raise ImageError("File is not an image we can read (JPEG, PNG, TIFF or BMP).") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"Image is corrupt or truncated ({error}).") from error


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        peak = values.max() or 1.0
        grey = np.clip(values / peak * 255.0, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return np.asarray(background)
    return np.asarray(image.convert("RGB"))


def locate_cell(rgb: np.ndarray) -> CellLocation:
    """Centre and size of the nucleus: the largest purple blob and its lobes; the image centre when none."""
    height, width = rgb.shape[:2]
    scale = min(1.0, _LOCATE_SIDE / max(height, width))
    small = (
        rgb
        if scale == 1.0
        else np.asarray(
            Image.fromarray(rgb).resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
        )
    )
    mask = _opening_2x2((small[..., 2].astype(np.int16) - small[..., 1]) > _PURPLE_MARGIN)
    labels, count = ndimage.label(mask)
    if count:
        # Sizes and centres of every blob from three bincounts over the blob pixels alone: far faster than
        # ndimage's per-label functions, and the same sums.
        flat = labels.ravel()
        inside = np.flatnonzero(flat)
        blob = flat[inside]
        rows, columns = np.divmod(inside, labels.shape[1])
        sizes = np.bincount(blob, minlength=count + 1)[1:].astype(np.float64)
        centres = np.stack(
            [
                np.bincount(blob, weights=rows, minlength=count + 1)[1:],
                np.bincount(blob, weights=columns, minlength=count + 1)[1:],
            ],
            axis=1,
        )
        centres /= sizes[:, None]
        largest = int(np.argmax(sizes))
        if sizes[largest] >= _MIN_NUCLEUS_PIXELS:
            reach = _LOBE_REACH * np.sqrt(sizes[largest])
            lobes = (np.hypot(*(centres - centres[largest]).T) <= reach) & (sizes >= _MIN_LOBE_SHARE * sizes[largest])
            cy, cx = np.average(centres[lobes], axis=0, weights=sizes[lobes])
            return CellLocation(
                x=(cx + 0.5) / scale,
                y=(cy + 0.5) / scale,
                nucleus_found=True,
                nucleus_size=float(np.sqrt(sizes[lobes].sum())) / scale,
            )
    return CellLocation(x=width / 2, y=height / 2, nucleus_found=False, nucleus_size=0.0)


def _opening_2x2(mask: np.ndarray) -> np.ndarray:
    """``ndimage.binary_opening(mask, structure=np.ones((2, 2)))`` in an eighth of the time: the union of every
    2x2 square that lies wholly inside the mask (erosion marks each by its lower-right pixel, dilation spreads it
    back up and left). ``tests/ml/test_preprocessing.py`` checks it against scipy.
    """
    eroded = np.zeros_like(mask)
    eroded[1:, 1:] = mask[1:, 1:] & mask[:-1, 1:] & mask[1:, :-1] & mask[:-1, :-1]
    down = eroded.copy()
    down[:-1] |= eroded[1:]
    opened = down.copy()
    opened[:, :-1] |= down[:, 1:]
    return opened


def crop_box(width: int, height: int, location: CellLocation, crop_scale: float) -> tuple[int, int, int, int]:
    """A square of ``crop_scale`` nucleus sizes centred on the cell; it may reach past the frame.

    Without a nucleus the box is the largest centred square.
    """
    side = max(1, round(crop_scale * location.nucleus_size)) if location.nucleus_found else min(width, height)
    left = int(round(location.x - side / 2))
    top = int(round(location.y - side / 2))
    return left, top, left + side, top + side


def crop_padded(rgb: np.ndarray, box: tuple[int, int, int, int]) -> Image.Image:
    """``box`` of the image; where it reaches past the frame, the frame's median colour fills it.

    Padding, not shifting the box inside the frame, keeps the crop the same whatever the frame's size.
    """
    height, width = rgb.shape[:2]
    left, top, right, bottom = box
    if left >= 0 and top >= 0 and right <= width and bottom <= height:
        return Image.fromarray(rgb).crop(box)
    background = tuple(int(value) for value in np.median(rgb[::4, ::4].reshape(-1, 3), axis=0))
    crop = Image.new("RGB", (right - left, bottom - top), background)
    inside = (max(left, 0), max(top, 0), min(right, width), min(bottom, height))
    if inside[0] < inside[2] and inside[1] < inside[3]:
        crop.paste(Image.fromarray(rgb).crop(inside), (inside[0] - left, inside[1] - top))
    return crop


def preprocess(rgb: np.ndarray, spec: PreprocessingSpec, location: CellLocation | None = None) -> np.ndarray:
    """The model's input: the cell crop resized to ``input_size`` (uint8; scaling is inside the model).

    ``location`` lets a caller that already located the cell skip doing it again; it must be ``locate_cell(rgb)``.
    """
    height, width = rgb.shape[:2]
    box = crop_box(width, height, location or locate_cell(rgb), spec.crop_scale)
    crop = crop_padded(rgb, box).resize((spec.input_size, spec.input_size), Image.BILINEAR)
    return NORMALISATIONS[spec.normalisation](np.asarray(crop, dtype=np.uint8))


def white_balance(crop: np.ndarray) -> np.ndarray:
    """Each channel scaled so that the crop's brightest tenth (plasma between the cells) is neutral: the lamp's
    and camera's tint taken out (white-patch colour constancy), the stain's colours kept relative to it."""
    bright = np.percentile(crop.reshape(-1, 3), 90, axis=0)
    return np.clip(crop * (WHITE_LEVEL / np.maximum(bright, 1.0)), 0, 255).astype(np.uint8)


def standardise(crop: np.ndarray) -> np.ndarray:
    """Each channel's mean and spread set to fixed values (Reinhard's colour transfer, per crop and in RGB): what
    is left of the stain is each pixel's colour relative to the rest of the crop."""
    pixels = crop.reshape(-1, 3).astype(np.float32)
    spread = np.maximum(pixels.std(axis=0), 1.0)
    scaled = (pixels - pixels.mean(axis=0)) / spread * STANDARD_SPREAD + STANDARD_MEAN
    return np.clip(scaled, 0, 255).astype(np.uint8).reshape(crop.shape)


def grey(crop: np.ndarray) -> np.ndarray:
    """The crop's luminance in all three channels: shape and texture only, no colour to lean on."""
    luminance = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(np.clip(luminance, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


WHITE_LEVEL = 235.0  # what the brightest tenth of every channel becomes under ``white_balance``
STANDARD_MEAN, STANDARD_SPREAD = (
    180.0,
    40.0,
)  # between the two labs' crops (Kaggle 179-193 and 30-39, PBC 174-209 and 22-59)
NORMALISATIONS = {"none": lambda crop: crop, "white_balance": white_balance, "standardise": standardise, "grey": grey}


def load_for_model(source: bytes | str | Path | BinaryIO, spec: PreprocessingSpec) -> np.ndarray:
    """Decode then preprocess a file, as the training pipeline does; the app decodes once, then calls ``preprocess``."""
    return preprocess(decode_image(source), spec)


ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated upload must fail, not be silently padded grey
