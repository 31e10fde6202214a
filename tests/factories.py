"""Generated test images (stained-smear look-alikes and deliberately broken files) and upload helpers."""

import io
import struct
import zlib

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


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
