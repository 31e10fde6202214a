"""Training, in the keras.io style: sources, a tf.data pipeline, then the model, then two visible phases.

The model trains on every configured source at once (``ml.sources``: the Kaggle TRAIN split and PBC's
training four fifths by default). Phase 1 trains the new head with the ImageNet base frozen; phase 2
fine-tunes the base at a low learning rate. With a validation split (grouped by source photo, stratified
by source and class) early stopping restores the best weights; with ``val_fraction=0`` the same phases
run their fixed epochs on every training image (the shipped refit, once the recipe was chosen on
validation). Cell crops are decoded once per network and cached as uint8, so every epoch after the
first costs only the model. Several networks trained with different seeds can be averaged
(``TrainingConfig.members``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ml import MODEL_CLASSES
from ml.artifact import ArtifactError, ArtifactMetadata, save_artifact
from ml.data import LabelledImage, fingerprint, grouped_split
from ml.inference import ViewAveragedForward, export_artifact
from ml.metrics import classification_metrics
from ml.model import alpha_from_weights, build_ensemble, build_model, resolve_base_weights, set_trainable_top
from ml.novelty import TrainingDistribution, fit_training_distribution
from ml.preprocessing import PreprocessingSpec, load_for_model
from ml.runtime import openvino_installed
from ml.sources import Source, cap_per_class, training_images

AUTOTUNE = tf.data.AUTOTUNE
NOVELTY_IMAGES_PER_CLASS = 400  # per source: enough for a 64-dimensional covariance, a minute of inference


@dataclass(frozen=True)
class TrainingConfig:
    """Every setting of a run; the defaults build the shipped model (docs/experiments.md says how each was chosen).

    The shipped model is a refit: no validation split, the fixed epochs chosen earlier on grouped validation.
    """

    image_size: int = 128
    crop_scale: float = PreprocessingSpec.crop_scale
    head_epochs: int = 2
    fine_tune_epochs: int = 4
    fine_tune_layers: int = 155
    batch_size: int = 32
    seed: int = 1
    val_fraction: float = 0.0
    head_learning_rate: float = 1e-3
    fine_tune_learning_rate: float = 1e-4
    label_smoothing: float = 0.1
    patience: int = 2
    max_per_class: int | None = None  # per source, for quick runs
    # Colour augmentation (``COLOUR_AUGMENTATIONS``): "none"; "jitter", small gains, saturation and hue
    # (docs/experiments.md, "Stain jitter"); "stain", another lab's stain and camera simulated (``stain_augment``).
    colour_augmentation: str = "none"
    # Applied to every crop at training and serving (``ml.preprocessing.NORMALISATIONS``).
    input_normalisation: str = "none"
    # Two views scored as four flips/rotations at half the inference cost (docs/experiments.md, "TTA views").
    tta: tuple[str, ...] = ("identity", "rotate_180")
    # Networks trained alike with seeds seed, seed + 1, ..., their probabilities averaged. One: a second network
    # doubles training time, and the second source costs 40% more per epoch (docs/experiments.md, "Two sources,
    # one network").
    members: int = 1

    @property
    def spec(self) -> PreprocessingSpec:
        return PreprocessingSpec(
            input_size=self.image_size, crop_scale=self.crop_scale, normalisation=self.input_normalisation
        )


def make_dataset(
    samples: list[LabelledImage],
    spec: PreprocessingSpec,
    batch_size: int,
    training: bool,
    seed: int = 0,
    cache: bool = True,
    colour_augmentation: str = "none",
) -> tf.data.Dataset:
    """(uint8 crop, one-hot label) batches; the crop is exactly ``load_for_model`` of the file.

    ``cache`` keeps the crops in memory for the next epoch; a single pass (evaluation) does not need it.
    """
    paths = [str(sample.path) for sample in samples]
    labels = keras.utils.to_categorical([sample.label for sample in samples], len(MODEL_CLASSES))
    dataset = tf.data.Dataset.from_tensor_slices((paths, labels))
    dataset = dataset.map(lambda path, label: (_load_crop(path, spec), label), num_parallel_calls=AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if training:
        dataset = dataset.shuffle(len(samples), seed=seed, reshuffle_each_iteration=True)
        # One stateless seed pair per image, fresh every epoch: augmentation reproducible despite parallel maps.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds))
        dataset = dataset.map(
            lambda pair, pair_seed: (augment(pair[0], pair_seed, colour_augmentation), pair[1]),
            num_parallel_calls=AUTOTUNE,
        )
    return dataset.batch(batch_size).prefetch(AUTOTUNE)


def _load_crop(path: tf.Tensor, spec: PreprocessingSpec) -> tf.Tensor:
    """The serving-time preprocessing, called from tf.data: one code path for training and the app."""
    crop = tf.numpy_function(lambda value: load_for_model(value.decode(), spec), [path], tf.uint8, stateful=False)
    return tf.ensure_shape(crop, (spec.input_size, spec.input_size, 3))


COLOUR_AUGMENTATIONS = ("none", "jitter", "stain")


def augment(image: tf.Tensor, seed: tf.Tensor, colour_augmentation: str = "none") -> tf.Tensor:
    """Rotations by 90 degrees, flips, brightness and contrast, then the colour augmentation asked for.

    "jitter" stays small (hue ±0.02, gains ±8%); "stain" is ``stain_augment``.
    """
    if colour_augmentation not in COLOUR_AUGMENTATIONS:
        raise ValueError(
            f"Unknown colour augmentation {colour_augmentation!r}; choose one of {', '.join(COLOUR_AUGMENTATIONS)}."
        )
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=8)
    image = tf.image.rot90(image, k=tf.random.stateless_uniform([], seeds[0], 0, 4, dtype=tf.int32))
    image = tf.image.stateless_random_flip_left_right(image, seeds[1])
    image = tf.cast(image, tf.float32)
    image = tf.image.stateless_random_brightness(image, 20.0, seeds[2])
    image = tf.image.stateless_random_contrast(image, 0.85, 1.15, seeds[3])
    if colour_augmentation == "jitter":
        image = image * tf.random.stateless_uniform([1, 1, 3], seeds[4], 0.92, 1.08)
        image = tf.clip_by_value(image, 0, 255) / 255.0
        image = tf.image.stateless_random_saturation(image, 0.75, 1.25, seeds[5])
        image = tf.image.stateless_random_hue(image, 0.02, seeds[6]) * 255.0
    elif colour_augmentation == "stain":
        image = stain_augment(image, seeds[7])
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def stain_augment(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Another laboratory's stain, lamp and camera, simulated on a float RGB image in 0-255.

    Stains absorb light, so their amount and hue mix linearly in optical density: a random mixing matrix near
    the identity and random strengths there move the stained parts' colour while the white background stays
    white (Tellez et al. 2019 do this on H&E axes; Romanowsky stains have no standard axes). Then a wider
    saturation and hue jitter, a grey-level view one time in six (shape, not colour), and a blur one time in
    three (a softer lens or lower resolution).
    """
    seeds = tf.random.experimental.stateless_split(seed, num=8)
    density = -tf.math.log((tf.clip_by_value(image, 0, 255) + 1.0) / 256.0)
    mixing = tf.eye(3) + tf.random.stateless_normal([3, 3], seeds[0], stddev=0.08)
    density = tf.tensordot(density, mixing, axes=1) * tf.random.stateless_uniform([1, 1, 3], seeds[1], 0.75, 1.25)
    image = tf.clip_by_value(256.0 * tf.exp(-density) - 1.0, 0, 255) / 255.0
    image = tf.image.stateless_random_saturation(image, 0.6, 1.4, seeds[2])
    image = tf.image.stateless_random_hue(image, 0.05, seeds[3])
    grey = tf.cast(tf.random.stateless_uniform([], seeds[4]) < 1 / 6, tf.float32)
    image = image * (1 - grey) + tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image)) * grey
    blur = tf.cast(tf.random.stateless_uniform([], seeds[5]) < 1 / 3, tf.float32)
    sigma = tf.random.stateless_uniform([], seeds[6], 0.4, 1.2)
    image = image * (1 - blur) + gaussian_blur(image, sigma) * blur
    return image * 255.0


def gaussian_blur(image: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """A 5-tap separable Gaussian of an (height, width, 3) image, edges repeated."""
    taps = tf.exp(-(tf.range(-2.0, 3.0) ** 2) / (2 * sigma**2))
    taps /= tf.reduce_sum(taps)
    padded = tf.pad(image[None], [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC")
    rows = tf.tile(tf.reshape(taps, [5, 1, 1, 1]), [1, 1, 3, 1])
    columns = tf.tile(tf.reshape(taps, [1, 5, 1, 1]), [1, 1, 3, 1])
    blurred = tf.nn.depthwise_conv2d(padded, rows, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(blurred, columns, [1, 1, 1, 1], "VALID")[0]


def compile_for_phase(model: keras.Model, learning_rate: float, label_smoothing: float) -> None:
    """Recompile after every change of trainable layers: Keras freezes the set at compile time."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )


def train_phase(model: keras.Model, train_data, val_data, epochs: int, patience: int) -> dict:
    """One phase of fitting; early stopping on validation loss brings back the best epoch's weights.

    Without validation data (a refit on every photo) the phase runs exactly ``epochs`` epochs.
    """
    if epochs <= 0:
        return {"epochs_run": 0, "seconds": 0.0}
    callbacks = (
        []
        if val_data is None
        else [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
    )
    started = time.perf_counter()
    history = model.fit(
        train_data, validation_data=val_data, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=1
    )
    val_loss = history.history.get("val_loss")
    return {
        "epochs_run": len(history.history["loss"]),
        "best_epoch": int(np.argmin(val_loss)) + 1 if val_loss else len(history.history["loss"]),
        "history": {key: [round(float(value), 4) for value in values] for key, values in history.history.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def train(
    train_samples: list[LabelledImage],
    val_samples: list[LabelledImage],
    base_weights: str | None,
    config: TrainingConfig,
) -> tuple[keras.Model, TrainingDistribution, ArtifactMetadata]:
    """Train ``config.members`` networks (averaged), then fit the novelty check on the training images."""
    if config.members < 1:
        raise ValueError("An ensemble needs at least one member.")
    started = time.perf_counter()
    alpha = alpha_from_weights(base_weights)
    val_data = make_dataset(val_samples, config.spec, config.batch_size, training=False) if val_samples else None
    members, member_phases = [], []
    for index in range(config.members):
        seed = config.seed + index
        print(f"Member {index + 1}/{config.members} (seed {seed})")
        name = "hematovision_mobilenetv2" if config.members == 1 else f"member_{index + 1}"
        member, phases = train_member(train_samples, val_data, base_weights, alpha, config, seed, name)
        members.append(member)
        member_phases.append({"seed": seed, **phases})
    model = build_ensemble(members)
    forward = serving_forward(model, config)
    print("Novelty check: fitting on the training images' features")
    distribution, novelty = fit_novelty(forward, train_samples, config.spec, config.batch_size, config.seed)
    validation = validation_metrics(forward, distribution, val_samples, val_data) if val_samples else None
    metadata = training_metadata(
        config,
        alpha,
        train_samples,
        val_samples,
        validation,
        novelty,
        {"member_phases": member_phases, "total_seconds": round(time.perf_counter() - started, 1)},
    )
    return model, distribution, metadata


def train_member(
    train_samples: list[LabelledImage],
    val_data,
    base_weights: str | None,
    alpha: float,
    config: TrainingConfig,
    seed: int,
    name: str,
) -> tuple[keras.Model, dict]:
    """One network: build it, train the head, then fine-tune the top of the base."""
    keras.utils.set_random_seed(seed)
    train_data = make_dataset(
        train_samples,
        config.spec,
        config.batch_size,
        training=True,
        seed=seed,
        colour_augmentation=config.colour_augmentation,
    )
    model = build_model(
        num_classes=len(MODEL_CLASSES), input_size=config.image_size, base_weights=base_weights, alpha=alpha, name=name
    )

    print(f"Phase 1: head only, base frozen ({config.head_epochs} epochs, lr {config.head_learning_rate})")
    set_trainable_top(model, 0)
    compile_for_phase(model, config.head_learning_rate, config.label_smoothing)
    head = train_phase(model, train_data, val_data, config.head_epochs, config.patience)

    print(
        f"Phase 2: fine-tune the top {config.fine_tune_layers} base layers "
        f"({config.fine_tune_epochs} epochs, lr {config.fine_tune_learning_rate})"
    )
    set_trainable_top(model, config.fine_tune_layers)
    compile_for_phase(model, config.fine_tune_learning_rate, config.label_smoothing)
    fine_tune = train_phase(model, train_data, val_data, config.fine_tune_epochs, config.patience)
    return model, {"head": head, "fine_tune": fine_tune}


def predict_dataset(forward: ViewAveragedForward, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, features) of every image of a ``make_dataset`` pipeline, as the app computes them."""
    outputs = [forward(images.numpy()) for images, _ in dataset]
    return np.concatenate([pair[0] for pair in outputs]), np.concatenate([pair[1] for pair in outputs])


def serving_forward(model: keras.Model, config: TrainingConfig) -> ViewAveragedForward:
    """The model as the app will serve it: same crops, same test-time augmentation."""
    return ViewAveragedForward(model, config.tta, config.image_size, config.batch_size)


def fit_novelty(
    forward: ViewAveragedForward,
    train_samples: list[LabelledImage],
    spec: PreprocessingSpec,
    batch_size: int,
    seed: int,
) -> tuple[TrainingDistribution, dict]:
    """The novelty check, fitted on up to ``NOVELTY_IMAGES_PER_CLASS`` training images per source and class."""
    chosen = []
    for source in sorted({sample.source for sample in train_samples}):
        chosen += cap_per_class([s for s in train_samples if s.source == source], NOVELTY_IMAGES_PER_CLASS, seed)
    started = time.perf_counter()
    _, features = predict_dataset(forward, make_dataset(chosen, spec, batch_size, training=False, cache=False))
    distribution, summary = fit_training_distribution(
        features, np.array([s.label for s in chosen]), [s.group for s in chosen], seed
    )
    return distribution, {**summary, "seconds": round(time.perf_counter() - started, 1)}


def validation_metrics(
    forward: ViewAveragedForward, distribution: TrainingDistribution, val_samples: list[LabelledImage], val_data
) -> dict:
    """Scored exactly as served, overall and per source, with the share the novelty check flags."""
    probabilities, features = predict_dataset(forward, val_data)
    unfamiliar = distribution.is_unfamiliar(features)
    keys = ("accuracy", "macro_f1", "per_class", "confusion_matrix", "photos_correct", "photos_total", "n_images")
    metrics = classification_metrics(val_samples, probabilities, list(MODEL_CLASSES))
    per_source = {}
    for source in sorted({sample.source for sample in val_samples}):
        chosen = np.array([sample.source == source for sample in val_samples])
        of_source = classification_metrics(
            [s for s, keep in zip(val_samples, chosen, strict=True) if keep], probabilities[chosen], list(MODEL_CLASSES)
        )
        per_source[source] = {
            **{key: of_source[key] for key in keys},
            "unlike_training_share": float(unfamiliar[chosen].mean()),
        }
    return {**{key: metrics[key] for key in keys}, "per_source": per_source}


def training_metadata(
    config: TrainingConfig,
    alpha: float,
    train_samples: list[LabelledImage],
    val_samples: list[LabelledImage],
    validation: dict | None,
    novelty: dict,
    phases: dict,
) -> ArtifactMetadata:
    trained_at = datetime.now(UTC).replace(microsecond=0)
    counts = {
        source: sum(s.source == source for s in train_samples) for source in sorted({s.source for s in train_samples})
    }
    return ArtifactMetadata(
        name=f"mobilenetv2-{trained_at:%Y%m%d-%H%M%S}",
        class_names=MODEL_CLASSES,
        preprocessing=config.spec,
        tta=config.tta,
        base_network=f"MobileNetV2 alpha={alpha}" + (f", {config.members} averaged" if config.members > 1 else ""),
        trained_at=trained_at.isoformat(),
        dataset_fingerprint=fingerprint(train_samples + val_samples),
        training={
            **asdict(config),
            **phases,
            "train_images": len(train_samples),
            "val_images": len(val_samples),
            "train_images_per_source": counts,
        },
        validation=validation,
        novelty=novelty,
    )


def load_training_images(
    sources: list[Source], config: TrainingConfig
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """Every source's training images, then split into (train, validation) grouped by source photo.

    ``val_fraction=0`` keeps everything for training and returns no validation images. Photos are recovered
    either way: the novelty check is calibrated on whole photos left out of its fit. Never reads an
    evaluation set (Kaggle TEST, a class-folder source's held-out fifth).
    """
    images = []
    for source in sources:
        images += cap_per_class(training_images(source), config.max_per_class, config.seed)
    if config.val_fraction == 0:
        return images, []
    return grouped_split(images, config.val_fraction, config.seed)


def run_training(
    sources: list[Source], base_weights_setting: str | None, output_path: str | Path, config: TrainingConfig
) -> dict:
    """The whole job behind ``manage.py train_model``: data, training, atomic save, the OpenVINO export when
    ``openvino`` is installed; returns the metadata."""
    started = time.perf_counter()
    base_weights = resolve_base_weights(base_weights_setting)
    train_samples, val_samples = load_training_images(sources, config)
    for source in sources:
        count = sum(sample.source == source.name for sample in train_samples)
        print(f"Source {source.describe()}: {count} training images")
    model, distribution, metadata = train(train_samples, val_samples, base_weights, config)
    training = {
        **metadata.training,
        "sources": [source.as_setting() for source in sources],
        "wall_seconds": round(time.perf_counter() - started, 1),
    }  # data loading included
    return save_and_export(model, distribution, output_path, dataclasses.replace(metadata, training=training))


def save_and_export(
    model: keras.Model, distribution: TrainingDistribution, output_path: str | Path, metadata: ArtifactMetadata
) -> ArtifactMetadata:
    """Save the artifact atomically, then export it to OpenVINO when ``openvino`` is installed; the metadata."""
    saved = save_artifact(model, distribution, output_path, metadata)
    if not openvino_installed():
        print("openvino is not installed: no OpenVINO export, the Keras model serves")
        return saved
    try:
        exported = export_artifact(output_path, model)
    except ArtifactError as error:  # the trained model is saved and serves on Keras: not worth losing
        print(f"No OpenVINO export, the Keras model serves: {error}")
        return saved
    print(
        f"Exported to OpenVINO {exported.openvino['openvino_version']} beside the model (largest probability "
        f"difference from Keras {exported.openvino['max_probability_difference']:.1e})"
    )
    return exported
