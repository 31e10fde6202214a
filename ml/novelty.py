"""Is an image like the images the model was trained on? A distance learned from the network's own features.

The classifier always names one of four classes, even for a cat. Hand-written colour bounds measured on one
lab's photos call another lab's cells atypical, so the check is learned instead, from every training source:
an image's distance to the training images is the smallest Mahalanobis distance of its pooled MobileNetV2
features to a class mean, one covariance shared by the classes and shrunk by Ledoit-Wolf (Lee et al. 2018).
All 1280 features are kept: a 64-dimensional PCA let pictures that are not cells through
(docs/experiments.md, "Novelty check"). The threshold is a high percentile of the distances of training
images that were left out of the fit (``fit_training_distribution``). It is saved beside the model.
"""

from __future__ import annotations

import dataclasses
import io
import threading
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from sklearn.covariance import LedoitWolf
from threadpoolctl import ThreadpoolController

THRESHOLD_PERCENTILE = 99.0  # of the left-out training images' distances: about 1 in 100 of them is flagged
CALIBRATION_SHARE = 0.25  # share of the training images left out of the fit, to calibrate the threshold


@dataclass(frozen=True)
class TrainingDistribution:
    """Class means and shared precision of training features, and the distance threshold."""

    class_means: np.ndarray  # (classes, features)
    precision: np.ndarray  # (features, features)
    threshold: float

    @cached_property
    def _whitening(self) -> np.ndarray:
        """L with L Lᵀ = precision: the Mahalanobis distance is the Euclidean one after multiplying by L.

        Fitted on few images (a lab model's check, from a few hundred), the precision saved as float32 can lose
        its smallest eigenvalues to rounding and Cholesky then refuses it: those are clipped at zero instead.
        """
        try:
            return np.linalg.cholesky(self.precision)
        except np.linalg.LinAlgError:
            values, vectors = np.linalg.eigh((self.precision + self.precision.T) / 2)
            return vectors * np.sqrt(np.clip(values, 0, None))

    @cached_property
    def _whitened_means(self) -> np.ndarray:
        """The class means whitened once, not on every call: a batch-1 call would otherwise spend most of its
        time on this product."""
        return self.class_means @ self._whitening

    def distances(self, features: np.ndarray) -> np.ndarray:
        """Smallest Mahalanobis distance of each feature row to a class mean (one matrix product per batch).

        The product runs on one BLAS thread: OpenBLAS's threads spin on the cores for a while after a call, and
        the next forward pass of the network, which wants every core, ran about 1.5x slower behind them. The lock
        keeps request threads from restoring each other's limits out of order.
        """
        with _BLAS_LOCK, _blas_controller().limit(limits=1, user_api="blas"):
            whitened = np.asarray(features, np.float64) @ self._whitening
        squared = ((whitened[:, None, :] - self._whitened_means[None, :, :]) ** 2).sum(axis=2)
        return np.sqrt(squared.min(axis=1))

    def is_unfamiliar(self, features: np.ndarray) -> np.ndarray:
        return self.distances(features) > self.threshold

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(
            buffer,
            class_means=self.class_means.astype(np.float32),
            precision=self.precision.astype(np.float32),
            threshold=np.array(self.threshold),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainingDistribution:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(
                class_means=arrays["class_means"].astype(np.float64),
                precision=arrays["precision"].astype(np.float64),
                threshold=float(arrays["threshold"]),
            )


_BLAS_LOCK = threading.Lock()


@cache
def _blas_controller() -> ThreadpoolController:
    """Finding the loaded BLAS libraries takes milliseconds, so it is done once per process."""
    return ThreadpoolController()


def fit_training_distribution(
    features: np.ndarray, labels: np.ndarray, groups: list[str], seed: int = 0
) -> tuple[TrainingDistribution, dict]:
    """Fit on most training images' features, calibrate the threshold on the rest (whole groups left out).

    One mean per class present in the fit: a source without other-kind cells trains no mean for them.
    Returns the distribution and a summary of the calibration (images used, threshold, share flagged).
    """
    features = np.asarray(features, np.float64)
    labels = np.asarray(labels)
    unique_groups = sorted(set(groups))
    rng = np.random.default_rng(seed)
    left_out = set(rng.choice(unique_groups, size=max(1, round(len(unique_groups) * CALIBRATION_SHARE)), replace=False))
    calibrate = np.array([group in left_out for group in groups])
    fit = ~calibrate
    present = np.unique(labels[fit])
    if len(present) < 2 or set(labels[calibrate]) - set(present) or calibrate.sum() == 0:
        raise ValueError("Too few training images to fit the novelty check: every class needs images in the fit.")
    fit_features, fit_labels = features[fit], labels[fit]
    class_means = np.stack([fit_features[fit_labels == label].mean(axis=0) for label in present])
    precision = LedoitWolf().fit(fit_features - class_means[np.searchsorted(present, fit_labels)]).precision_
    # Saved as float32, so the threshold is calibrated on the rounded values that serving will use.
    distribution = TrainingDistribution.from_bytes(TrainingDistribution(class_means, precision, np.inf).to_bytes())
    threshold = float(np.percentile(distribution.distances(features[calibrate]), THRESHOLD_PERCENTILE))
    distribution = dataclasses.replace(distribution, threshold=threshold)
    summary = {
        "fit_images": int(fit.sum()),
        "calibration_images": int(calibrate.sum()),
        "features": int(features.shape[1]),
        "threshold": round(threshold, 4),
        "threshold_percentile": THRESHOLD_PERCENTILE,
    }
    return distribution, summary
