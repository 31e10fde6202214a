"""Command-line options shared by the model commands, so each is spelled and checked in one place."""

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def add_dataset_argument(parser) -> None:
    parser.add_argument("--dataset-dir", default=settings.HEMATOVISION_DATASET_DIR,
                        help="dataset2-master folder (default: HEMATOVISION_DATASET_DIR)")


def add_model_argument(parser) -> None:
    parser.add_argument("--model", default=str(settings.HEMATOVISION_MODEL_PATH),
                        help="the .keras artifact (default: HEMATOVISION_MODEL_PATH)")


def require_dataset(options: dict) -> None:
    """A ``CommandError`` that says how to give the dataset when none is configured."""
    if not options["dataset_dir"]:
        raise CommandError("No dataset: pass --dataset-dir or set HEMATOVISION_DATASET_DIR to the "
                           "dataset2-master folder.")


def require_migrated_database() -> None:
    """Fail before minutes of training or evaluation, not after, when the results could not be stored."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError("The database has unapplied migrations: run `python manage.py migrate` first "
                           "(the model and its results are registered in it).")
