"""Command-line options shared by the model commands, so each is spelled and checked in one place."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from ml.data import DatasetError
from ml.preprocessing import NORMALISATIONS
from ml.sources import parse_sources
from ml.training import COLOUR_AUGMENTATIONS, TrainingConfig

TRAINING_DEFAULTS = TrainingConfig()


def add_dataset_argument(parser) -> None:
    parser.add_argument(
        "--dataset-dir",
        default=settings.HEMATOVISION_DATASET_DIR,
        help="dataset2-master folder (default: HEMATOVISION_DATASET_DIR)",
    )


def add_sources_argument(parser) -> None:
    parser.add_argument(
        "--source",
        dest="sources",
        action="append",
        metavar="NAME=PATH",
        help="a labelled source, repeatable: NAME=PATH or NAME:N=PATH (N images per class); "
        "Kaggle split layout or class folders (default: HEMATOVISION_TRAINING_SOURCES)",
    )


def sources_option(options: dict) -> list:
    """The ``--source`` values, or the configured default; a ``CommandError`` that names a bad one."""
    try:
        return parse_sources(options["sources"] or settings.HEMATOVISION_TRAINING_SOURCES)
    except DatasetError as error:
        raise CommandError(str(error)) from error


def add_model_argument(parser) -> None:
    parser.add_argument(
        "--model",
        default=str(settings.HEMATOVISION_MODEL_PATH),
        help="the .keras artifact (default: HEMATOVISION_MODEL_PATH)",
    )


def add_training_arguments(parser) -> None:
    """The recipe's settings, shared by ``train_model`` and ``cross_validate`` so both train alike."""
    parser.add_argument(
        "--base-weights",
        default=settings.HEMATOVISION_BASE_WEIGHTS,
        help="MobileNetV2 no-top .h5 file, 'imagenet' or 'none' (default: HEMATOVISION_BASE_WEIGHTS)",
    )
    parser.add_argument(
        "--epochs", type=int, default=TRAINING_DEFAULTS.head_epochs, help="epochs of phase 1 (head only, base frozen)"
    )
    parser.add_argument(
        "--fine-tune-epochs",
        type=int,
        default=TRAINING_DEFAULTS.fine_tune_epochs,
        help="epochs of phase 2 (fine-tuning); a maximum when a validation split stops it early",
    )
    parser.add_argument(
        "--fine-tune-layers",
        type=int,
        default=TRAINING_DEFAULTS.fine_tune_layers,
        help="how many top layers of the base are trained in phase 2 (155 = all of "
        "MobileNetV2; BatchNorm layers stay frozen)",
    )
    parser.add_argument("--image-size", type=int, default=TRAINING_DEFAULTS.image_size)
    parser.add_argument(
        "--crop-scale",
        type=float,
        default=TRAINING_DEFAULTS.crop_scale,
        help="side of the square crop around the cell, in nucleus sizes",
    )
    parser.add_argument(
        "--colour-augmentation",
        choices=COLOUR_AUGMENTATIONS,
        default=TRAINING_DEFAULTS.colour_augmentation,
        help="colour augmentation in training: none, jitter (small gains, saturation, hue) or stain (another "
        "lab's stain and camera simulated)",
    )
    parser.add_argument(
        "--input-normalisation",
        choices=sorted(NORMALISATIONS),
        default=TRAINING_DEFAULTS.input_normalisation,
        help="applied to every crop at training and serving",
    )
    parser.add_argument("--batch-size", type=int, default=TRAINING_DEFAULTS.batch_size)
    parser.add_argument("--seed", type=int, default=TRAINING_DEFAULTS.seed)
    parser.add_argument(
        "--members",
        type=int,
        default=TRAINING_DEFAULTS.members,
        help="networks trained with seeds seed, seed+1, ... and averaged (1 = a single network)",
    )
    parser.add_argument(
        "--max-per-class",
        type=int,
        default=None,
        help="train on a reduced subset of this many images per class (quick runs, CI)",
    )


def training_config(options: dict, **overrides) -> TrainingConfig:
    """The ``TrainingConfig`` that ``add_training_arguments`` describes."""
    return TrainingConfig(
        image_size=options["image_size"],
        crop_scale=options["crop_scale"],
        head_epochs=options["epochs"],
        fine_tune_epochs=options["fine_tune_epochs"],
        fine_tune_layers=options["fine_tune_layers"],
        batch_size=options["batch_size"],
        seed=options["seed"],
        max_per_class=options["max_per_class"],
        members=options["members"],
        colour_augmentation=options["colour_augmentation"],
        input_normalisation=options["input_normalisation"],
        **overrides,
    )


def add_json_argument(parser, what: str) -> None:
    parser.add_argument("--json", dest="json_path", help=f"also write the {what} to this JSON file")


def write_json_option(options: dict, data: dict) -> None:
    """Write ``data`` where ``--json`` asks, creating the folder."""
    if options["json_path"]:
        path = Path(options["json_path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))


def require_dataset(options: dict) -> None:
    """A ``CommandError`` that says how to give the dataset when none is configured."""
    if not options["dataset_dir"]:
        raise CommandError(
            "No dataset: pass --dataset-dir or set HEMATOVISION_DATASET_DIR to the dataset2-master folder."
        )


def require_migrated_database() -> None:
    """Fail before minutes of training or evaluation, not after, when the results could not be stored."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(
            "The database has unapplied migrations: run `python manage.py migrate` first "
            "(the model and its results are registered in it)."
        )
