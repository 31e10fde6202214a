"""The request's check of an image a worker classifies, against the full decode it replaced (issue 23): core-ms
per image of ``decode_image`` and of ``verify_image`` on real files of every source, one run, best of three.

    python -m benchmarks.decode        (make bench-decode; the dataset paths come from the environment)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ml.preprocessing import decode_image, verify_image

IMAGES_PER_SET = 300


def image_sets() -> dict[str, list[Path]]:
    """Real files of each shape an upload may have: Kaggle's 320x240 crops, its 640x480 originals, PBC's cells."""
    kaggle = Path(os.environ["HEMATOVISION_DATASET_DIR"])
    sets = {
        "Kaggle TRAIN, 320x240": sorted((kaggle / "images" / "TRAIN").glob("*/*.jpeg")),
        "Kaggle originals, 640x480": sorted((kaggle.parent / "dataset-master" / "JPEGImages").glob("*.jpg")),
    }
    if os.environ.get("HEMATOVISION_PBC_DIR"):
        sets["PBC, 360x363"] = sorted(Path(os.environ["HEMATOVISION_PBC_DIR"]).glob("*/*.jpg"))
    return {name: files[:IMAGES_PER_SET] for name, files in sets.items() if files}


def core_ms_per_image(function, images: list[bytes], repeats: int = 3) -> float:
    """CPU time of this process (``time.process_time``), so a busy machine slows the figure less than wall time."""
    function(images[0])
    runs = []
    for _ in range(repeats):
        started = time.process_time()
        for data in images:
            function(data)
        runs.append((time.process_time() - started) / len(images) * 1000)
    return min(runs)


def main() -> None:
    print(f"{'images':28} {'decode':>8} {'verify':>8}  (core-ms per image, best of 3)")
    for name, files in image_sets().items():
        images = [path.read_bytes() for path in files]
        decoded, verified = core_ms_per_image(decode_image, images), core_ms_per_image(verify_image, images)
        print(f"{name:28} {decoded:8.3f} {verified:8.3f}  {decoded / verified:.1f}x less ({len(images)} files)")


if __name__ == "__main__":
    main()
