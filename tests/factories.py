"""The one home of test helpers: generated images (stained-smear look-alikes and deliberately broken files),
uploads and ZIPs of them, users, samples and predictions made straight in the database with chosen labels (no
model call needed), and tiny but complete model artifacts."""

import datetime
import importlib
import io
import re
import shutil
import struct
import zipfile
import zlib

import numpy as np
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image, ImageDraw
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.services import token_issue
from classifier.models import CLASS_NAMES, Prediction
from labs.apps import REVIEWERS_GROUP
from labs.models import Lab, Sample
from labs.services.samples import sample_create
from labs.services.sign_off import sample_verify
from ml import MODEL_CLASSES
from ml.artifact import PRECISIONS, ArtifactMetadata, metadata_path, novelty_path, openvino_paths, save_artifact
from ml.inference import ViewAveragedForward
from ml.novelty import fit_training_distribution
from ml.preprocessing import PreprocessingSpec, preprocess
from registry.models import ModelVersion

SHA256 = "0123456789abcdef" * 4
SENIOR_REVIEWERS_MIGRATION = importlib.import_module("labs.migrations.0003_senior_reviewers_group")
SENIOR_REVIEWERS_GROUP = SENIOR_REVIEWERS_MIGRATION.SENIOR_REVIEWERS_GROUP
TINY_INPUT = 32  # the tiny test model's input side, in pixels


def smear_rgb(
    width: int = 320,
    height: int = 240,
    nucleus=(160, 120),
    radius: int = 30,
    seed: int = 0,
    nucleus_colour=(120, 60, 180),
) -> np.ndarray:
    """Pink background with red-cell blobs and one purple nucleus, like a Wright-stained smear, with a camera's
    noise (no photo of a smear has large areas of one exact colour: ``ml.quality.FLAT_COLOUR_SHARE``)."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:] = (225, 200, 200)
    yy, xx = np.mgrid[:height, :width]
    for _ in range(6):
        cx, cy = rng.integers(0, width), rng.integers(0, height)
        rgb[(xx - cx) ** 2 + (yy - cy) ** 2 < 20**2] = (215, 150, 150)
    rgb[(xx - nucleus[0]) ** 2 + (yy - nucleus[1]) ** 2 < radius**2] = nucleus_colour
    return np.clip(rgb + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)


def image_bytes(fmt: str = "JPEG", rgb: np.ndarray | None = None, mode: str | None = None, comment: str = "") -> bytes:
    """An encoded image; a JPEG ``comment`` changes the file's bytes (its sha256), never its pixels."""
    image = Image.fromarray(smear_rgb() if rgb is None else rgb)
    if mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"comment": comment} if comment else {}))
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    data = image_bytes("JPEG")
    return data[: len(data) // 2]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid small PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    data = bytearray(image_bytes("PNG", rgb=np.zeros((8, 8, 3), np.uint8)))
    ihdr_start = 8 + 8  # signature, then length + type of the IHDR chunk
    data[ihdr_start : ihdr_start + 8] = struct.pack(">II", width, height)
    chunk = bytes(data[12 : ihdr_start + 13])
    data[ihdr_start + 13 : ihdr_start + 17] = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    return bytes(data)


def upload_file(name: str = "cell.jpeg", data: bytes | None = None, content_type: str = "image/jpeg"):
    """An uploaded JPEG of the smear look-alike; without ``data``, its bytes carry ``name`` (a JPEG comment), so
    files of other names are other files to a sample (same pixels, another sha256) and a name sent again is the
    same file."""
    data = image_bytes("JPEG", comment=name) if data is None else data
    return SimpleUploadedFile(name, data, content_type=content_type)


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


def jpeg_round_trip(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image_bytes("JPEG", rgb=rgb))).convert("RGB"))


def save_tiny_artifact(model, path, name: str = "tiny-test-model", class_names=CLASS_NAMES):
    """Save ``model`` as a complete artifact, its novelty check fitted on generated smear look-alikes."""
    spec = PreprocessingSpec(input_size=model.input_shape[1])
    forward = ViewAveragedForward(model, ("identity",), spec.input_size)
    count = 40  # smear look-alikes, each also as the JPEG that uploads send, so neither looks unfamiliar
    looks = [
        smear_rgb(seed=seed // 2) if seed % 2 else jpeg_round_trip(smear_rgb(seed=seed // 2)) for seed in range(count)
    ]
    _, features = forward(np.stack([preprocess(rgb, spec) for rgb in looks]))
    distribution, summary = fit_training_distribution(
        features, np.arange(count) % len(CLASS_NAMES), [str(seed // 2) for seed in range(count)]
    )
    return save_artifact(
        model,
        distribution,
        path,
        ArtifactMetadata(
            name=name,
            class_names=tuple(class_names),
            preprocessing=spec,
            tta=("identity",),
            base_network="MobileNetV2 alpha=0.35 (random weights)",
            trained_at="2026-01-01T00:00:00+00:00",
            dataset_fingerprint="generated",
            validation=None,
            novelty=summary,
            training={
                "train_images": count,
                "val_images": 0,
                "train_images_per_source": {"generated": count},
                "sources": ["generated"],
                "val_fraction": 0.0,
            },
        ),
    )


def artifact_copy(model_path, folder, with_export: bool = True, name: str | None = None):
    """The artifact's files copied to ``folder`` (its OpenVINO exports, where it has them, only ``with_export``),
    named ``name`` (a ``.keras`` file name) or as they were; the copy's model path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or model_path.name)
    shutil.copy(model_path, target)
    shutil.copy(metadata_path(model_path), metadata_path(target))
    shutil.copy(novelty_path(model_path), novelty_path(target))
    exports = [
        (source, copy)
        for precision in PRECISIONS
        for source, copy in zip(openvino_paths(model_path, precision), openvino_paths(target, precision), strict=True)
    ]
    for source, copy in exports if with_export else []:
        if source.exists():
            shutil.copy(source, copy)
    return target


# An agreement gate that a tiny model's int8 export passes: its random head's classes are near ties.
LOOSE_GATE = {"same_class_share": 0.0, "same_novelty_flag_share": 0.0, "accuracy_difference_points": 100.0}


def generated_crops(spec: PreprocessingSpec, seeds) -> np.ndarray:
    """Crops of smear look-alikes, one per seed, as the network sees them."""
    return np.stack([preprocess(smear_rgb(seed=seed), spec) for seed in seeds])


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_upload(members: dict[str, bytes], name: str = "cells.zip", compression: int = zipfile.ZIP_DEFLATED):
    """An uploaded ZIP of ``members`` (name: bytes)."""
    return SimpleUploadedFile(name, zip_of(members, compression), content_type="application/zip")


def reviewer_make(django_user_model, username: str = "rita"):
    """A new member of the Reviewers group (the product's way of granting the review permission)."""
    return reviewer_grant(django_user_model.objects.create_user(username=username, password=f"s3cret-pass-{username}"))


def reviewer_grant(user):
    """Make an existing user a reviewer."""
    user.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    return user


def unverifier_grant(user):
    """Give an existing user the permission to un-verify samples (staff grant it in the admin)."""
    user.user_permissions.add(Permission.objects.get(codename="unverify_sample", content_type__app_label="labs"))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: Django caches permissions per instance


def senior_reviewer_make(django_user_model, username: str, first_name: str = "", last_name: str = ""):
    """A new member of the Reviewers and Senior reviewers groups: reviews, verifies and un-verifies.

    The group is made again as its migration makes it where a live-server test's flush removed it (post_migrate
    makes only the Reviewers group again)."""
    user = reviewer_make(django_user_model, username)
    user.first_name, user.last_name = first_name, last_name
    user.save()
    SENIOR_REVIEWERS_MIGRATION.senior_reviewers_group(apps, None)
    user.groups.add(Group.objects.get(name=SENIOR_REVIEWERS_GROUP))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: Django caches permissions per instance


def lab_make(*members, name: str = "Haematology North", slug: str = "haematology-north") -> Lab:
    lab = Lab.objects.create(name=name, slug=slug)
    lab.members.add(*members)
    return lab


def sample_make(owner, identifier: str = "S-001", notes: str = "", lab=None):
    return sample_create(owner=owner, identifier=identifier, notes=notes, lab=lab)


def sample_verified_make(owner, reviewer, identifier: str = "S-DONE", lab=None, cells: int = 2):
    """A sample with ``cells`` cells, each confirmed by ``reviewer``, verified through the service."""
    sample = sample_make(owner, identifier, lab=lab)
    for index in range(cells):
        prediction_make(sample, reviewed_label="NEUTROPHIL", reviewer=reviewer, filename=f"done-{index}.jpeg")
    return sample_verify(sample=sample, reviewer=reviewer)


def reviewed_lab_sample_make(owner, reviewer):
    """``owner``'s sample "S-PDF" in Haematology North, reviewed by ``reviewer`` (renamed Rita Levi): 9 neutrophils
    (one corrected from a monocyte, one confirmed), 1 lymphocyte and 1 smudge cell excluded; verified at 17:05 UTC
    on 1 Dec 2026."""
    reviewer.first_name, reviewer.last_name = "Rita", "Levi"
    reviewer.save()
    sample = sample_make(owner, "S-PDF", notes="Routine smear", lab=lab_make(owner, reviewer))
    predictions_make(sample, {"NEUTROPHIL": 7, "LYMPHOCYTE": 1})
    prediction_make(sample, "NEUTROPHIL", reviewed_label="NEUTROPHIL", reviewer=reviewer, filename="confirmed.jpeg")
    prediction_make(sample, "MONOCYTE", reviewed_label="NEUTROPHIL", reviewer=reviewer, filename="corrected.jpeg")
    prediction_make(sample, "LYMPHOCYTE", exclusion_reason="smudge cell", reviewer=reviewer, filename="smudge.jpeg")
    Sample.objects.filter(pk=sample.pk).update(
        verified_by=reviewer, verified_at=datetime.datetime(2026, 12, 1, 17, 5, tzinfo=datetime.UTC)
    )
    sample.refresh_from_db()
    return sample


def model_version_make() -> ModelVersion:
    version, _ = ModelVersion.objects.get_or_create(
        sha256=SHA256,
        defaults={
            "name": "factory-model",
            "file_path": "/models/factory.keras",
            "base_network": "MobileNetV2",
            "input_size": 96,
            "class_names": CLASS_NAMES,
        },
    )
    return version


def prediction_make(
    sample,
    label: str = "NEUTROPHIL",
    *,
    reviewed_label: str = "",
    reviewer=None,
    needs_review: bool = False,
    filename: str = "cell.jpeg",
    owner=None,
    exclusion_reason: str = "",
    review_reasons: list[str] | None = None,
    image: bytes | None = None,
) -> Prediction:
    """One stored prediction of ``sample`` (or of ``owner`` alone when ``sample`` is None); an
    ``exclusion_reason`` makes it excluded by ``reviewer``; ``review_reasons`` (e.g. ``["blank"]``) flag it;
    ``image`` is its file (default: the smear look-alike)."""
    names = CLASS_NAMES if label in CLASS_NAMES else MODEL_CLASSES  # another kind: a model of eight outputs
    probabilities = {name: (0.7 if name == label else 0.1) for name in names}
    if review_reasons is None:
        review_reasons = ["low_confidence"] if needs_review else []
    prediction = Prediction(
        owner=owner or sample.owner,
        sample=sample,
        predicted_label=label,
        confidence=0.7,
        probabilities=probabilities,
        needs_review=needs_review or bool(review_reasons),
        review_reasons=review_reasons,
        original_filename=filename,
        model_version=model_version_make(),
        inference_ms=1.0,
        reviewed_label=reviewed_label,
        reviewed_by=reviewer if reviewed_label or exclusion_reason else None,
        reviewed_at=timezone.now() if reviewed_label or exclusion_reason else None,
        excluded=bool(exclusion_reason),
        exclusion_reason=exclusion_reason,
    )
    data = image or image_bytes("JPEG")
    prediction.image.save(filename, ContentFile(data), save=False)
    prediction.preview.save("preview.jpg", ContentFile(data), save=False)
    prediction.image_width, prediction.image_height = 320, 240  # the size of factories.smear_rgb
    prediction.save()
    return prediction


def predictions_make(sample, counts: dict[str, int]) -> list[Prediction]:
    """``counts`` predictions of each class, e.g. ``{"NEUTROPHIL": 6, "LYMPHOCYTE": 4}``."""
    return [
        prediction_make(sample, label, filename=f"{label.lower()}-{index}.jpeg")
        for label, count in counts.items()
        for index in range(count)
    ]


def mixed_smear_make(owner, identifier: str = "S-MIXED"):
    """A sample of 4 recognised cells (2 neutrophils, 2 lymphocytes), a blank frame and a gradient picture unlike
    the training images: 4 counted, 2 not recognised. Returns the sample and the blank frame's prediction."""
    sample = sample_make(owner, identifier)
    predictions_make(sample, {"NEUTROPHIL": 2, "LYMPHOCYTE": 2})
    blank = prediction_make(sample, "MONOCYTE", review_reasons=["blank"], filename="blank.png")
    prediction_make(sample, "MONOCYTE", review_reasons=["unlike_training_images"], filename="gradient.png")
    return sample, blank


def token_client(user) -> APIClient:
    """An API client that authenticates as ``user`` with a token, as scripts do."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user)}")
    return client


def page_session(user, page_url: str) -> tuple[Client, str]:
    """A browser-like client logged in as ``user`` with CSRF checks on, and the CSRF token the page at
    ``page_url`` hands its scripts (its form's ``csrfmiddlewaretoken``), as the JS uploaders send it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(page_url).content.decode()
    return client, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def pdf_text(pdf: bytes) -> str:
    """A PDF's text as a reader sees it (pypdf), white space folded."""
    assert pdf.startswith(b"%PDF")
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def pdf_image_count(pdf: bytes) -> int:
    """Images drawn on a PDF's pages (each draw counts: identical images share one stored copy)."""
    return sum(page.get_contents().get_data().count(b" Do\n") for page in PdfReader(io.BytesIO(pdf)).pages)


def upload(client, url, *files):
    """POST ``files`` to an API upload endpoint, one ``images`` field per file."""
    return client.post(url, {"images": list(files)}, format="multipart")


# Nucleus colours that make the class of a generated cell: a rule a tiny network learns in a few epochs, so a lab
# model built on such cells is measurably better than an untrained one.
CLASS_COLOURS = {
    "EOSINOPHIL": (190, 60, 70),
    "LYMPHOCYTE": (60, 70, 190),
    "MONOCYTE": (70, 160, 70),
    "NEUTROPHIL": (120, 60, 180),
}


def coloured_cell_bytes(label: str, seed: int) -> bytes:
    """A JPEG smear look-alike whose nucleus colour (``CLASS_COLOURS``) says its class."""
    rng = np.random.default_rng(seed)
    nucleus = (int(rng.integers(120, 200)), int(rng.integers(90, 150)))
    rgb = smear_rgb(nucleus=nucleus, radius=int(rng.integers(24, 34)), seed=seed, nucleus_colour=CLASS_COLOURS[label])
    return image_bytes("JPEG", rgb)


def coloured_cells_folder(root, per_class: int, first_seed: int = 10_000):
    """Class folders of generated cells (``coloured_cell_bytes``): a labelled source as ``ml.sources`` reads."""
    for offset, label in enumerate(CLASS_COLOURS):
        folder = root / label.lower()
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            seed = first_seed + 1000 * offset + index
            (folder / f"cell-{seed}.jpg").write_bytes(coloured_cell_bytes(label, seed))
    return root


# adapt_model options for the tiny model: the head alone, briefly, at a high rate, which learns the generated cells'
# colour rule reliably in seconds.
FAST_LAB_MODEL_BUILD = [
    "--epochs",
    "10",
    "--learning-rate",
    "0.01",
    "--fine-tune-layers",
    "0",
    "--replay-per-class",
    "10",
]


def lab_cells_make(lab, owner, reviewer, per_class: int, identifier: str = "S-CELLS") -> Sample:
    """A verified sample of ``lab`` with ``per_class`` generated cells of each class, each confirmed by
    ``reviewer`` (the model's answer is taken as wrong and corrected for one in two)."""
    sample = sample_make(owner, identifier, lab=lab)
    for offset, label in enumerate(CLASS_COLOURS):
        for index in range(per_class):
            seed = 1000 * offset + index + zlib.crc32(identifier.encode()) % 997 * 100_000
            predicted = label if index % 2 else "NEUTROPHIL"
            prediction_make(
                sample,
                predicted,
                reviewed_label=label,
                reviewer=reviewer,
                filename=f"{label.lower()}-{index}.jpeg",
                image=coloured_cell_bytes(label, seed),
            )
    return sample_verify(sample=sample, reviewer=reviewer)
