"""Generated test images (stained-smear look-alikes and deliberately broken files), upload helpers, tiny artifacts."""

import io
import struct
import zlib

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from ml import CLASS_NAMES
from ml.artifact import ArtifactMetadata, save_artifact
from ml.inference import ViewAveragedForward
from ml.novelty import fit_training_distribution
from ml.preprocessing import PreprocessingSpec, preprocess


def smear_rgb(width: int = 320, height: int = 240, nucleus=(160, 120), radius: int = 30, seed: int = 0) -> np.ndarray:
    """Pink background with red-cell blobs and one purple nucleus, like a Wright-stained smear."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:] = (225, 200, 200)
    yy, xx = np.mgrid[:height, :width]
    for _ in range(6):
        cx, cy = rng.integers(0, width), rng.integers(0, height)
        rgb[(xx - cx) ** 2 + (yy - cy) ** 2 < 20**2] = (215, 150, 150)
    rgb[(xx - nucleus[0]) ** 2 + (yy - nucleus[1]) ** 2 < radius**2] = (120, 60, 180)
    return rgb


def image_bytes(fmt: str = "JPEG", rgb: np.ndarray | None = None, mode: str | None = None) -> bytes:
    image = Image.fromarray(smear_rgb() if rgb is None else rgb)
    if mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    data = image_bytes("JPEG")
    return data[: len(data) // 2]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid small PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    data = bytearray(image_bytes("PNG", rgb=np.zeros((8, 8, 3), np.uint8)))
    ihdr_start = 8 + 8  # signature, then length + type of the IHDR chunk
    data[ihdr_start:ihdr_start + 8] = struct.pack(">II", width, height)
    chunk = bytes(data[12:ihdr_start + 13])
    data[ihdr_start + 13:ihdr_start + 17] = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    return bytes(data)


def upload_file(name: str = "cell.jpeg", data: bytes | None = None, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, image_bytes("JPEG") if data is None else data, content_type=content_type)


def media_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def cat_like_rgb(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A natural-photo stand-in: a smooth brown-grey gradient, fur-like streaks, a head with ears and eyes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width] / max(width, height)
    base = np.stack([120 + 60 * xx, 95 + 45 * xx, 70 + 30 * yy], axis=2)
    streaks = np.repeat(rng.normal(0, 12, (height, 1, 1)), width, axis=1) + rng.normal(0, 6, (height, width, 1))
    image = Image.fromarray(np.clip(base + streaks, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    cx, cy, r = width // 2, height // 2, height // 4
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(150, 120, 90))
    draw.polygon([(cx - r, cy - r // 2), (cx - r // 2, cy - 2 * r), (cx, cy - r)], fill=(140, 110, 80))
    draw.polygon([(cx + r, cy - r // 2), (cx + r // 2, cy - 2 * r), (cx, cy - r)], fill=(140, 110, 80))
    for eye_x in (cx - r // 2, cx + r // 2):
        draw.ellipse((eye_x - 8, cy - 12, eye_x + 8, cy + 4), fill=(90, 140, 60))
    return np.asarray(image)


def blank_rgb(width: int = 320, height: int = 240, colour=(255, 255, 255)) -> np.ndarray:
    return np.full((height, width, 3), colour, np.uint8)


def noise_rgb(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def screenshot_rgb(width: int = 320, height: int = 240) -> np.ndarray:
    """A screen capture: flat title bar and buttons, black text on white."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 24), fill=(60, 90, 160))
    draw.text((8, 6), "Report - HematoVision", fill=(255, 255, 255))
    for line in range(8):
        draw.text((12, 36 + line * 20), f"Line {line}: the quick brown fox jumps over", fill=(0, 0, 0))
    draw.rectangle((width - 90, height - 34, width - 10, height - 10), fill=(220, 220, 220), outline=(0, 0, 0))
    return np.asarray(image)


def save_tiny_artifact(model, path, name: str = "tiny-test-model"):
    """Save ``model`` as a complete artifact, its novelty check fitted on generated smear look-alikes."""
    spec = PreprocessingSpec(input_size=model.input_shape[1])
    forward = ViewAveragedForward(model, ("identity",), spec.input_size)
    count = 40
    _, features = forward(np.stack([preprocess(smear_rgb(seed=seed), spec) for seed in range(count)]))
    distribution, summary = fit_training_distribution(features, np.arange(count) % len(CLASS_NAMES),
                                                      [str(seed) for seed in range(count)], len(CLASS_NAMES))
    return save_artifact(model, distribution, path, ArtifactMetadata(
        name=name, class_names=CLASS_NAMES, preprocessing=spec, tta=("identity",),
        base_network="MobileNetV2 alpha=0.35 (random weights)", trained_at="2026-01-01T00:00:00+00:00",
        dataset_fingerprint="generated", validation=None, novelty=summary,
        training={"train_images": count, "val_images": 0, "train_images_per_source": {"generated": count},
                  "sources": ["generated"], "val_fraction": 0.0}))
