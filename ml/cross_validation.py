"""Grouped k-fold cross-validation of a training recipe, on the training images of every source only.

One validation split holds ~60 Kaggle source photos, so its accuracy moves by several points from one split
to the next. Every training photo (Kaggle) or cell (class folders) is held out exactly once here, folds are
stratified by source and class, and each fold trains exactly as the shipped refit does (fixed epochs, no
early stopping), so the pooled figure estimates the shipped procedure, not a selection made on the held-out
fold. Evaluation sets (Kaggle TEST, held-out fifths) are never read.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, fields

import keras
import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from ml import MODEL_CLASSES
from ml.data import LabelledImage
from ml.metrics import class_table_lines, classification_metrics
from ml.model import resolve_base_weights
from ml.sources import Source
from ml.training import TrainingConfig, load_training_images, make_dataset, predict_dataset, serving_forward, train

FOLD_KEYS = ("accuracy", "macro_f1", "photos_correct", "photos_total", "n_images")


def grouped_folds(
    samples: list[LabelledImage], folds: int, seed: int
) -> list[tuple[list[LabelledImage], list[LabelledImage]]]:
    """(train, held-out) pairs, stratified by source and class; every group is held out exactly once."""
    if folds < 2:
        raise ValueError("Cross-validation needs at least 2 folds.")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    labels = [f"{sample.source}/{sample.label}" for sample in samples]
    groups = [sample.group for sample in samples]
    return [
        ([samples[i] for i in train_index], [samples[i] for i in held_out_index])
        for train_index, held_out_index in splitter.split(np.zeros(len(samples)), labels, groups)
    ]


def train_and_predict(
    train_samples: list[LabelledImage], held_out: list[LabelledImage], base_weights: str | None, config: TrainingConfig
) -> np.ndarray:
    """One fold: a fresh model trained for the fixed epochs, then the held-out photos scored as served."""
    keras.backend.clear_session()  # each fold's graph would otherwise stay in memory
    model, _, _ = train(train_samples, [], base_weights, config)
    return predict_dataset(
        serving_forward(model, config),
        make_dataset(held_out, config.spec, config.batch_size, training=False, cache=False),
    )[0]


def cross_validate(
    sources: list[Source], base_weights_setting: str | None, config: TrainingConfig, folds: int = 5
) -> dict:
    """Per-fold and pooled (out-of-fold) metrics of ``config`` trained for its fixed epochs."""
    base_weights = resolve_base_weights(base_weights_setting)
    samples, _ = load_training_images(sources, dataclasses.replace(config, val_fraction=0.0))
    held_out_samples, probabilities, fold_numbers, fold_results = [], [], [], []
    for number, (train_samples, held_out) in enumerate(grouped_folds(samples, folds, config.seed), start=1):
        print(f"Fold {number}/{folds}: training on {len(train_samples)} images, holding out {len(held_out)}")
        started = time.perf_counter()
        fold_probabilities = train_and_predict(train_samples, held_out, base_weights, config)
        metrics = classification_metrics(held_out, fold_probabilities, list(MODEL_CLASSES))
        fold_results.append(
            {
                "fold": number,
                **{key: metrics[key] for key in FOLD_KEYS},
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(f"Fold {number}/{folds}: accuracy {metrics['accuracy']:.2%}, macro F1 {metrics['macro_f1']:.3f}")
        held_out_samples += held_out
        fold_numbers += [number] * len(held_out)
        probabilities.append(fold_probabilities)
    accuracies = np.array([fold["accuracy"] for fold in fold_results])
    pooled_probabilities = np.concatenate(probabilities)
    return {
        "folds": fold_results,
        "accuracy_mean": float(accuracies.mean()),
        "accuracy_sd": float(accuracies.std(ddof=1)),
        "pooled": classification_metrics(held_out_samples, pooled_probabilities, list(MODEL_CLASSES)),
        "config": {**asdict(config), "folds": folds},
        "out_of_fold": out_of_fold_records(held_out_samples, pooled_probabilities, fold_numbers),
    }


def out_of_fold_records(samples: list[LabelledImage], probabilities: np.ndarray, folds: list[int]) -> list[dict]:
    """Every TRAIN image's probabilities from the fold that held it out: calibration data no model saw."""
    return [
        {
            "path": str(sample.path),
            "source": sample.source,
            "label": sample.class_name,
            "photo": sample.group,
            "fold": fold,
            "probabilities": [round(float(p), 6) for p in row],
        }
        for sample, row, fold in zip(samples, probabilities, folds, strict=True)
    ]


def format_cross_validation(result: dict) -> str:
    """A plain-text summary for the terminal: every fold, then the pooled out-of-fold figures."""
    pooled = result["pooled"]
    lines = [f"{'fold':<6}{'images':>8}{'accuracy':>10}{'macro F1':>10}{'photos right':>14}"]
    lines += [
        f"{fold['fold']:<6}{fold['n_images']:>8}{fold['accuracy']:>10.2%}{fold['macro_f1']:>10.3f}"
        f"{fold['photos_correct']:>9}/{fold['photos_total']}"
        for fold in result["folds"]
    ]
    lines += [
        "",
        f"accuracy over folds: mean {result['accuracy_mean']:.2%}, sd {result['accuracy_sd']:.2%}",
        f"pooled out-of-fold: accuracy {pooled['accuracy']:.2%}, macro F1 {pooled['macro_f1']:.3f}, "
        f"photo groups right {pooled['photos_correct']}/{pooled['photos_total']}",
        *(f"  read wrongly: {row['photo']} voted {row['voted']}" for row in pooled["wrong_photos"]),
        "",
        *class_table_lines(pooled),
    ]
    return "\n".join(lines)


# Every training setting makes the recipe except these, which only decide which of the recipe's models one gets;
# derived from TrainingConfig so that a setting added later is compared too.
NOT_RECIPE = {"seed", "val_fraction", "patience"}
RECIPE_KEYS = tuple(field.name for field in fields(TrainingConfig) if field.name not in NOT_RECIPE)


def recipe_differences(cross_validation_config: dict, training: dict) -> list[str]:
    """How the recipe that was cross-validated differs from a model's recorded training settings."""
    return [
        f"{key}: cross-validated {cross_validation_config.get(key)!r}, model {training.get(key)!r}"
        for key in RECIPE_KEYS
        if cross_validation_config.get(key) != training.get(key)
    ]


def out_of_fold_predictions(result: dict, source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, class indices) of every held-out training image in a ``cross_validate`` result.

    ``source`` keeps one source's images: a laboratory's threshold should follow its own instrument.
    """
    records = result.get("out_of_fold")
    if not records:
        raise ValueError(
            "The cross-validation results hold no out-of-fold predictions; rerun "
            "`manage.py cross_validate --json FILE` to record them."
        )
    if source is not None:
        names = sorted({record.get("source") for record in records})
        records = [record for record in records if record.get("source") == source]
        if not records:
            raise ValueError(
                f"The cross-validation results hold no images of source {source!r} (they hold "
                f"{', '.join(map(str, names))})."
            )
    unknown = {record["label"] for record in records} - set(MODEL_CLASSES)
    if unknown:
        raise ValueError(f"The cross-validation results name unknown classes: {sorted(unknown)}.")
    return (
        np.array([record["probabilities"] for record in records]),
        np.array([MODEL_CLASSES.index(record["label"]) for record in records]),
    )
