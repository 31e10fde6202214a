"""``manage.py calibrate_review_threshold``: choose HEMATOVISION_CONFIDENCE_THRESHOLD on held-out training data.

Two sources, neither of them TEST: the model's own grouped validation split, rebuilt from the seed and
fraction stored in its metadata, or (``--cross-validation``) the out-of-fold predictions of
``manage.py cross_validate`` for the same recipe, which cover every TRAIN photo and also serve a model
refit on all of them.
"""

import json
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ml import CLASS_NAMES
from ml.artifact import ArtifactError, ArtifactMetadata, read_metadata
from ml.cross_validation import out_of_fold_predictions, recipe_differences
from ml.data import DatasetError, LabelledImage
from ml.evaluation import predict_split
from ml.inference import CellClassifier
from ml.leave_one_lab_out import unseen_lab_readings
from ml.quality import (
    ReviewOutcome,
    choose_review_threshold,
    review_outcomes,
    review_summary,
    threshold_for_unseen_labs,
)
from ml.sources import cap_per_class, parse_sources
from ml.training import TrainingConfig, load_training_images
from registry.management.options import add_model_argument

TRADE_OFF_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def validation_samples(metadata: ArtifactMetadata, max_per_class: int | None) -> list[LabelledImage]:
    """The model's own grouped validation split of its training sources, optionally reduced for a quick run."""
    training = metadata.training
    if not training["val_fraction"]:
        raise CommandError(
            "The model was trained on every training image (val_fraction 0), so no held-out photos "
            "are left to calibrate on; pass the out-of-fold predictions of its recipe instead "
            "(`manage.py cross_validate --json FILE`, then --cross-validation FILE)."
        )
    config = TrainingConfig(
        seed=training["seed"], val_fraction=training["val_fraction"], max_per_class=training["max_per_class"]
    )
    _, validation = load_training_images(parse_sources(training["sources"]), config)
    return cap_per_class(validation, max_per_class, config.seed)


def validation_predictions(model_path: str, max_per_class: int | None):
    """The model's probabilities and the true classes on its grouped validation split."""
    classifier = CellClassifier.from_path(model_path)
    if classifier.class_names[: len(CLASS_NAMES)] != list(CLASS_NAMES):
        raise CommandError(f"The model's classes {classifier.class_names} do not start with {list(CLASS_NAMES)}.")
    samples = validation_samples(classifier.metadata, max_per_class)
    probabilities, _, _ = predict_split(classifier, samples, batch_size=64)
    return "grouped validation split of the training images", probabilities, np.array([s.label for s in samples])


def cross_validation_predictions(model_path: str, results_path: str, source: str | None):
    """Out-of-fold probabilities and true classes, refused unless they come from the model's own recipe."""
    try:
        result = json.loads(Path(results_path).read_text())
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read the cross-validation results {results_path} ({error}).") from error
    differences = recipe_differences(result.get("config") or {}, read_metadata(model_path).training)
    if differences:
        raise CommandError(
            "The cross-validation trained another recipe than the model, so its predictions "
            "say nothing of the model's confidence: " + "; ".join(differences)
        )
    described = (
        f"out-of-fold predictions, {result['config'].get('folds')}-fold cross-validation of the "
        f"training images{f' of source {source}' if source else ''}"
    )
    return described, *out_of_fold_predictions(result, source)


def _percent(value: float | None) -> str:
    return "n/a (no images)" if value is None else f"{value:.2%}"


def trade_off_lines(outcomes: list[ReviewOutcome]) -> list[str]:
    def cell(value: float | None) -> str:
        return f"{'-' if value is None else f'{value:.2%}':>13}"

    return [
        f"{'threshold':>10}{'flagged':>10}{'right above':>13}{'right below':>13}",
        *(
            f"{outcome.threshold:>10.2f}{outcome.flagged_share:>10.1%}{cell(outcome.accuracy_above)}"
            f"{cell(outcome.accuracy_below)}"
            for outcome in outcomes
        ),
    ]


def unseen_lab_report(results_path: str, max_wrong_unflagged: float) -> str:
    """The threshold for a laboratory the model has never seen, and the trade-off on each left-out lab."""
    try:
        result = json.loads(Path(results_path).read_text())
        readings = unseen_lab_readings(result)
    except (OSError, ValueError, KeyError) as error:
        raise CommandError(f"Cannot read the leave-one-lab-out results {results_path} ({error}).") from error
    threshold, table = threshold_for_unseen_labs(readings, max_wrong_unflagged)
    labs = list(readings)
    lines = [
        "Each left-out lab's training images, read by a model trained on the other labs only:",
        f"{'threshold':>10}"
        + "".join(f"{lab + ' flagged':>18}{'unflagged right':>17}{'wrong, no flag':>16}" for lab in labs),
    ]
    lines += [
        f"{row['threshold']:>10.2f}"
        + "".join(
            f"{row[lab]['flagged_share']:>18.1%}{row[lab]['unflagged_accuracy']:>17.2%}"
            f"{row[lab]['wrong_unflagged_share']:>16.1%}"
            for lab in labs
        )
        for row in table
        if round(row["threshold"] * 100) % 5 == 0 or row["threshold"] == threshold
    ]
    if threshold is None:
        lines.append(f"No threshold leaves at most {max_wrong_unflagged:.0%} wrong and unflagged on every lab.")
    else:
        lines.append(
            f"Lowest threshold with at most {max_wrong_unflagged:.0%} wrong and unflagged on every "
            f"left-out lab: {threshold:.2f} (HEMATOVISION_CONFIDENCE_THRESHOLD={threshold:.2f})"
        )
        lines += evaluation_lines(result, threshold)
    return "\n".join(lines) + "\n"


def evaluation_lines(result: dict, threshold: float) -> list[str]:
    """At the chosen threshold, each left-out lab's evaluation set (for the model card; never for the choice)."""
    if not all("evaluation" in figures for figures in result["left_out"].values()):
        return []
    lines = [f"At {threshold:.2f}, each left-out lab's evaluation set (read for the table, not for the choice):"]
    for lab, (probabilities, labels, unlike) in unseen_lab_readings(result, "evaluation").items():
        summary = review_summary(probabilities, labels, unlike, threshold)
        lines.append(
            f"  {lab}: flagged {summary['flagged_share']:.1%}, unflagged right "
            f"{summary['unflagged_accuracy']:.2%}, wrong and unflagged {summary['wrong_unflagged_share']:.1%}"
        )
    return lines


class Command(BaseCommand):
    help = (
        "Choose the confidence threshold below which predictions need review, on held-out TRAIN data: the "
        "model's grouped validation split, or cross-validation's out-of-fold predictions (never TEST)."
    )

    def add_arguments(self, parser):
        add_model_argument(parser)
        parser.add_argument(
            "--cross-validation",
            dest="cross_validation",
            help="calibrate on the out-of-fold predictions in this `cross_validate --json` file "
            "(the model's recipe; works for a model refit on every TRAIN photo)",
        )
        parser.add_argument(
            "--leave-one-lab-out",
            dest="leave_one_lab_out",
            help="choose the threshold that leaves at most --max-wrong-unflagged of each left-out "
            "lab's training images wrong and unflagged, from this `leave_one_lab_out --json` "
            "file (each lab plays the laboratory the model has never seen)",
        )
        parser.add_argument(
            "--max-wrong-unflagged",
            type=float,
            default=0.05,
            help="with --leave-one-lab-out: the share of wrong answers allowed to carry no flag",
        )
        parser.add_argument(
            "--source",
            help="with --cross-validation: only this training source's images (e.g. "
            "kaggle or pbc), for a laboratory with that instrument",
        )
        parser.add_argument(
            "--target-accuracy",
            type=float,
            default=0.99,
            help="accuracy the trusted (not flagged) predictions must reach (default 0.99)",
        )
        parser.add_argument(
            "--max-per-class",
            type=int,
            default=None,
            help="use at most this many validation images per class (quick runs)",
        )

    def handle(self, *args, **options):
        if options["leave_one_lab_out"]:
            self.stdout.write(unseen_lab_report(options["leave_one_lab_out"], options["max_wrong_unflagged"]))
            return
        if not 0 < options["target_accuracy"] <= 1:
            raise CommandError("--target-accuracy must be above 0 and at most 1, e.g. 0.99.")
        try:
            if options["cross_validation"]:
                source, probabilities, labels = cross_validation_predictions(
                    options["model"], options["cross_validation"], options["source"]
                )
            elif options["source"]:
                raise CommandError("--source chooses among out-of-fold predictions: pass --cross-validation too.")
            else:
                source, probabilities, labels = validation_predictions(options["model"], options["max_per_class"])
        except (ArtifactError, DatasetError, ValueError) as error:
            raise CommandError(str(error)) from error
        choice = choose_review_threshold(probabilities, labels, options["target_accuracy"])
        current = settings.HEMATOVISION_CONFIDENCE_THRESHOLD
        outcomes = review_outcomes(probabilities, labels, sorted({*TRADE_OFF_THRESHOLDS, current}))
        self.stdout.write(
            "\n".join(
                [
                    f"Images ({source}): {choice.images}",
                    f"Review threshold for {choice.target_accuracy:.1%} accuracy: {choice.threshold:.4f}",
                    f"Flagged for review: {choice.flagged_share:.2%} of these images",
                    f"Accuracy at or above the threshold: {_percent(choice.accuracy_above)}",
                    f"Accuracy below the threshold: {_percent(choice.accuracy_below)}",
                    "",
                    f"Trade-off (the current setting is {current}):",
                    *trade_off_lines(outcomes),
                    "",
                ]
            )
        )
        if choice.accuracy_above is None:
            self.stdout.write(
                self.style.WARNING(
                    f"No threshold reaches {choice.target_accuracy:.1%} while trusting any image: choose "
                    "HEMATOVISION_CONFIDENCE_THRESHOLD from the trade-off above."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Set HEMATOVISION_CONFIDENCE_THRESHOLD={choice.threshold:.4f}"))
