"""A laboratory's own model: the shared model fine-tuned on the lab's reviewed cells, then judged against it.

The lab's cells arrive as a class-folder source (``ml.sources``), so the held-out rule is the one every class-folder
source has: a fixed fifth of the cells, by a hash of the file name, is never trained on and is where the candidate
and the model the lab uses now are compared. The candidate starts from the shared model's weights and trains on
the lab's other cells mixed with a replay sample of the shared sources (so it keeps reading them), all layers but
BatchNorm at a low learning rate, the same augmentation as training; then its novelty check is refitted on what it
was trained on, the lab's look included. docs/model-card.md ("Adapting to a laboratory") has the figures.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras

from ml import CLASS_NAMES, MODEL_CLASSES
from ml.artifact import ArtifactMetadata, load_artifact
from ml.data import LabelledImage, fingerprint
from ml.inference import ViewAveragedForward
from ml.model import ensemble_members, set_trainable_top
from ml.sources import Source, cap_per_class, evaluation_images, training_images
from ml.training import compile_for_phase, fit_novelty, make_dataset, save_and_export, train_phase

# A shared set may lose at most this much accuracy (a fraction: one point) for a lab's model to be activated.
MAX_SHARED_DROP = 0.01
# As accurate on the lab's held-out cells counts as better only with a log loss lower by this much: an unchanged
# network read through another runtime differs by rounding, which is no reason to switch.
LOG_LOSS_MARGIN = 0.01


@dataclass(frozen=True)
class AdaptationConfig:
    """The fine-tuning recipe (docs/experiments.md, "A lab's own model", says how it was chosen)."""

    epochs: int = 4
    learning_rate: float = 1e-4
    label_smoothing: float = 0.1
    fine_tune_layers: int = 155  # all of MobileNetV2; BatchNorm stays frozen
    replay_per_class: int = 100  # images of each class drawn from each shared source
    lab_share: float = 0.5  # the lab's cells are repeated to make about this share of every epoch
    batch_size: int = 32
    seed: int = 1
    min_cells_per_class: int = 5  # verified cells of each of the four classes, held-out ones included


def too_few_cells(counts: dict[str, int], minimum: int) -> str:
    """Why a lab cannot have its own model yet ('' when it can): fewer than ``minimum`` cells of some class."""
    short = [f"{name.lower()} {counts.get(name, 0)}" for name in CLASS_NAMES if counts.get(name, 0) < minimum]
    if not short:
        return ""
    return (
        f"A lab's own model needs at least {minimum} verified cells of each of the four classes; this lab has "
        f"{', '.join(short)}. Verify more samples and try again."
    )


def lab_training_mix(
    lab_source: Source, replay_sources: list[Source], config: AdaptationConfig
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(the lab's training cells, the replay sample of the shared sources); the lab's held-out fifth is left out."""
    lab_cells = training_images(lab_source)
    replay = []
    for source in replay_sources:
        replay += cap_per_class(training_images(source), config.replay_per_class, config.seed)
    return lab_cells, replay


def fine_tune(
    base_model_path: str | Path,
    lab_source: Source,
    replay_sources: list[Source],
    output_path: str | Path,
    config: AdaptationConfig,
) -> ArtifactMetadata:
    """Fine-tune the model at ``base_model_path`` for the lab, save it (OpenVINO export included) and return its
    metadata. Prints each phase; Keras prints the progress bar."""
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed)  # the same cells give the same model
    model, _, base = load_artifact(base_model_path)
    lab_cells, replay = lab_training_mix(lab_source, replay_sources, config)
    repeats = max(1, round(config.lab_share * len(replay) / ((1 - config.lab_share) * max(1, len(lab_cells)))))
    print(f"Lab {lab_source.name}: {len(lab_cells)} training cells (x{repeats}), replay {len(replay)} shared images")
    train_data = make_dataset(
        replay + lab_cells * repeats, base.preprocessing, config.batch_size, training=True, seed=config.seed
    )

    print(f"Fine-tune: {config.epochs} epochs, lr {config.learning_rate}")
    for member in ensemble_members(model):
        set_trainable_top(member, config.fine_tune_layers)
    compile_for_phase(model, config.learning_rate, config.label_smoothing)
    phase = train_phase(model, train_data, None, config.epochs, patience=0)

    print("Novelty check: refitting on the shared images and the lab's cells")
    forward = ViewAveragedForward(model, base.tta, base.preprocessing.input_size, config.batch_size)
    shared = [image for source in replay_sources for image in training_images(source)]
    distribution, novelty = fit_novelty(forward, shared + lab_cells, base.preprocessing, config.batch_size, config.seed)

    trained_at = datetime.now(UTC).replace(microsecond=0)
    metadata = dataclasses.replace(
        base,
        name=f"{lab_source.name}-{trained_at:%Y%m%d-%H%M%S}",
        trained_at=trained_at.isoformat(),
        dataset_fingerprint=fingerprint(replay + lab_cells),
        training={
            "adapted_from": {"name": base.name, "sha256": base.sha256},
            "config": asdict(config),
            "lab": lab_source.name,
            "lab_cells_per_class": per_class_counts(lab_cells),
            "lab_repeats": repeats,
            "replay_images": len(replay),
            "fine_tune": phase,
            "train_images": len(lab_cells) + len(replay),
            "val_images": 0,
            "train_images_per_source": {lab_source.name: len(lab_cells), "replay": len(replay)},
            "sources": [source.as_setting() for source in replay_sources],
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
        validation=None,
        novelty=novelty,
        sha256="",
        novelty_sha256="",
        openvino={},
        evaluation={},  # the shared model's figures are not the lab model's: ``registry.adaptation`` measures them
    )
    return save_and_export(model, distribution, output_path, metadata)


def per_class_counts(images: list[LabelledImage]) -> dict[str, int]:
    """Images per class name, classes without any left out."""
    counts = {name: sum(image.label == label for image in images) for label, name in enumerate(MODEL_CLASSES)}
    return {name: count for name, count in counts.items() if count}


def lab_held_out(lab_source: Source) -> tuple[str, list[LabelledImage]]:
    """(name, cells) of the lab's held-out fifth of the four classes: where the two models are compared."""
    evaluation = evaluation_images(lab_source)
    return evaluation if evaluation else (f"{lab_source.name} held-out", [])


@dataclass(frozen=True)
class Decision:
    activate: bool
    reasons: tuple[str, ...]  # one line per evaluation set, then the verdict

    def to_dict(self) -> dict:
        return asdict(self)


def decide(lab_set: str, shared_sets: list[str], current: dict[str, dict], candidate: dict[str, dict]) -> Decision:
    """Activate the candidate only if it is better on the lab's held-out cells and at most ``MAX_SHARED_DROP``
    worse on every shared set; ``current`` and ``candidate`` are evaluations keyed by set name.

    Better is more accurate, or as accurate and surer of the true classes (a lower log loss): a lab's first
    held-out cells are few, and both models may read them all correctly.
    """
    lines, activate = [], True
    now, new = current[lab_set], candidate[lab_set]
    before, after = now["accuracy"], new["accuracy"]
    surer = after == before and new["log_loss"] < now["log_loss"] - LOG_LOSS_MARGIN
    better = after > before or surer
    activate &= better
    verdict = "better" if after > before else "not better"
    if after == before:
        verdict = f"{'better' if surer else 'not better'}: log loss {now['log_loss']:.3f} now, {new['log_loss']:.3f}"
    lines.append(f"{lab_set} ({new['n_images']} cells): {before:.1%} now, {after:.1%} with the lab's model ({verdict})")
    for name in shared_sets:
        before, after = current[name]["accuracy"], candidate[name]["accuracy"]
        kept = after >= before - MAX_SHARED_DROP
        activate &= kept
        lines.append(
            f"{name}: {before:.1%} now, {after:.1%} with the lab's model "
            f"({'within' if kept else 'more than'} {MAX_SHARED_DROP * 100:g} point of now)"
        )
    lines.append("Activated for this lab." if activate else "Not activated: the lab keeps the model it has.")
    return Decision(activate=activate, reasons=tuple(lines))
