"""Building a lab's own model from its cells, evaluated beside the model the lab uses now, and registered.

The second bridge to ``ml/`` beside the model commands: the labs app hands over plain cells (a name, a class, the
bytes), never a query, and gets back the registered candidate, the evaluations and the verdict of
``ml.adaptation.decide``; whether to activate it for the lab is the labs app's write.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ml.adaptation import AdaptationConfig, Decision, decide, fine_tune, lab_held_out, per_class_counts, too_few_cells
from ml.artifact import ArtifactError
from ml.data import DatasetError
from ml.evaluation import evaluate_set
from ml.inference import CellClassifier
from ml.sources import Source, evaluation_images, parse_sources, training_images
from registry.models import ModelVersion
from registry.services import model_version_register

__all__ = [
    "AdaptationConfig",
    "Candidate",
    "LabCell",
    "LabModelError",
    "lab_cells_problem",
    "lab_model_candidate",
    "sources",
]

# What the side-by-side table keeps of each evaluation (the candidate's full figures go on its ModelVersion).
SUMMARY_KEYS = ("n_images", "accuracy", "macro_f1", "log_loss", "flagged_share", "wrong_unflagged_share")


class LabModelError(Exception):
    """A lab model cannot be built or judged; the message is fit for the lab."""


@contextmanager
def _lab_model_errors():
    """A dataset's or an artifact's error, told as a ``LabModelError`` (its message is fit for the lab)."""
    try:
        yield
    except (ArtifactError, DatasetError) as error:
        raise LabModelError(str(error)) from error


@_lab_model_errors()
def sources(texts: str | list[str]) -> list[Source]:
    """Sources from a setting or ``--source`` values (``ml.sources.parse_sources``)."""
    return parse_sources(texts)


@dataclass(frozen=True)
class LabCell:
    """A verified cell: ``name`` (its content's sha256 and extension) fixes whether it is held out."""

    name: str
    label: str  # one of ml.MODEL_CLASSES
    read: Callable[[], bytes]


@dataclass(frozen=True)
class Candidate:
    version: ModelVersion
    decision: Decision
    evaluations: dict  # {"current": {set: summary}, "candidate": {set: summary}}
    training_cells: dict  # {"trained": {class: n}, "held_out": {class: n}}
    seconds: float


def lab_cells_problem(label_counts: dict[str, int], config: AdaptationConfig) -> str:
    """Why these cells cannot make a lab model ('' when they can)."""
    return too_few_cells(label_counts, config.min_cells_per_class)


@_lab_model_errors()
def lab_model_candidate(
    *,
    lab_slug: str,
    cells: list[LabCell],
    current: ModelVersion,
    shared_model_path: str | Path,
    replay_sources: list[Source],
    evaluation_sources: list[Source],
    output_dir: str | Path,
    review_threshold: float,
    config: AdaptationConfig,
    progress: Callable[[str], None] = print,
) -> Candidate:
    """Fine-tune the shared model on the lab's cells, evaluate it and ``current`` on the lab's held-out cells and
    every evaluation source, register it, and say whether it should be activated. Raises ``LabModelError`` with a
    message fit for the lab when the cells or the files cannot make one."""
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix=f"lab-{lab_slug}-") as folder:
        lab_source = _cells_as_source(lab_slug, cells, Path(folder))
        lab_set, held_out = lab_held_out(lab_source)
        if not held_out:
            raise LabModelError(
                "None of the lab's verified cells falls in its held-out fifth yet, so a lab model could not be "
                "compared with the current one. Verify more samples and try again."
            )
        output = Path(output_dir) / f"{lab_slug}-{started:%Y%m%d-%H%M%S}.keras"
        progress(f"Training on {len(cells) - len(held_out)} cells (holding out {len(held_out)})")
        metadata = fine_tune(shared_model_path, lab_source, replay_sources, output, config)
        version = model_version_register(model_path=output, metadata=metadata)
        shared_sets = [evaluation_images(source) for source in evaluation_sources]
        shared_sets = [pair for pair in shared_sets if pair]
        progress("Evaluating the lab's model")
        candidate_metrics = _evaluate(
            CellClassifier.from_path(output), [(lab_set, held_out), *shared_sets], review_threshold
        )
        progress("Evaluating the lab's current model")
        current_metrics = _evaluate_current(current, [(lab_set, held_out), *shared_sets], review_threshold)
        training_cells = {
            "trained": per_class_counts(training_images(lab_source)),
            "held_out": per_class_counts(held_out),
        }
    decision = decide(lab_set, [name for name, _ in shared_sets], current_metrics, candidate_metrics)
    evaluations = {
        "current": {"name": current.name, "sha256": current.sha256, **_summaries(current_metrics)},
        "candidate": {"name": version.name, "sha256": version.sha256, **_summaries(candidate_metrics)},
        "lab_set": lab_set,
    }
    version.metrics = {
        **version.metrics,
        "evaluation": candidate_metrics,
        "adaptation": {
            "lab": lab_slug,
            "training_cells": training_cells,
            "evaluations": evaluations,
            "decision": decision.to_dict(),
        },
    }
    version.save(update_fields=["metrics"])
    seconds = (datetime.now(UTC) - started).total_seconds()
    return Candidate(version, decision, evaluations, training_cells, seconds)


def _cells_as_source(lab_slug: str, cells: list[LabCell], folder: Path) -> Source:
    """Write the cells as class folders, the layout ``ml.sources`` reads (and holds a fifth out of)."""
    for cell in cells:
        target = folder / cell.label.lower() / cell.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(cell.read())
    return Source(name=lab_slug, root=folder)


def _evaluate(classifier: CellClassifier, sets: list[tuple[str, list]], review_threshold: float) -> dict[str, dict]:
    return {name: evaluate_set(classifier, name, images, review_threshold) for name, images in sets}


def _evaluate_current(current: ModelVersion, sets: list[tuple[str, list]], review_threshold: float) -> dict:
    """The current model on every set; a shared set's figures are reused when its ModelVersion already holds them
    for the same images (``evaluate_model`` or an earlier build stored them), which saves a minute."""
    stored = current.metrics.get("evaluation", {})
    known = {
        name: stored[name]
        for name, images in sets
        if name in stored
        and stored[name].get("model_sha256") == current.sha256
        and stored[name].get("n_images") == len(images)
        and stored[name].get("review_threshold") == review_threshold
    }
    missing = [(name, images) for name, images in sets if name not in known]
    if missing:
        known |= _evaluate(CellClassifier.from_path(current.file_path), missing, review_threshold)
    return known


def _summaries(metrics: dict[str, dict]) -> dict:
    return {"sets": {name: {key: figures.get(key) for key in SUMMARY_KEYS} for name, figures in metrics.items()}}
