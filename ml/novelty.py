"""Is an image like the images the model was trained on? A distance learned from the network's own features.

The classifier always names one of four classes, even for a cat. Hand-written colour bounds measured on one
lab's photos call another lab's cells atypical, so the check is learned instead, from every training source:
the pooled MobileNetV2 features of training images are reduced by PCA, and an image's distance to the
training images is its smallest Mahalanobis distance to a class mean (one covariance shared by the classes,
shrunk by Ledoit-Wolf; Lee et al. 2018). The threshold is a high percentile of the distances of training
images that were left out of the fit (``fit_training_distribution``). It is saved beside the model.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA

COMPONENTS = 64  # PCA dimensions kept of the 1280 pooled features: a stable covariance from a few thousand images
THRESHOLD_PERCENTILE = 99.0  # of the left-out training images' distances: about 1 in 100 of them is flagged
CALIBRATION_SHARE = 0.25  # share of the training images left out of the fit, to calibrate the threshold


@dataclass(frozen=True)
class TrainingDistribution:
    """Class means and shared precision of training features in PCA space, and the distance threshold."""

    centre: np.ndarray  # (features,)
    components: np.ndarray  # (COMPONENTS, features)
    class_means: np.ndarray  # (classes, COMPONENTS)
    precision: np.ndarray  # (COMPONENTS, COMPONENTS)
    threshold: float

    def distances(self, features: np.ndarray) -> np.ndarray:
        """Smallest Mahalanobis distance of each feature row to a class mean."""
        projected = (np.asarray(features, np.float64) - self.centre) @ self.components.T
        offsets = projected[:, None, :] - self.class_means[None, :, :]
        squared = np.einsum("ncd,de,nce->nc", offsets, self.precision, offsets)
        return np.sqrt(np.maximum(squared.min(axis=1), 0.0))

    def is_unfamiliar(self, features: np.ndarray) -> np.ndarray:
        return self.distances(features) > self.threshold

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, centre=self.centre, components=self.components, class_means=self.class_means,
                 precision=self.precision, threshold=np.array(self.threshold))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "TrainingDistribution":
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(centre=arrays["centre"], components=arrays["components"], class_means=arrays["class_means"],
                       precision=arrays["precision"], threshold=float(arrays["threshold"]))


def fit_training_distribution(features: np.ndarray, labels: np.ndarray, groups: list[str], classes: int,
                              seed: int = 0) -> tuple[TrainingDistribution, dict]:
    """Fit on most training images' features, calibrate the threshold on the rest (whole groups left out).

    Returns the distribution and a summary of the calibration (images used, threshold, share flagged).
    """
    features = np.asarray(features, np.float64)
    labels = np.asarray(labels)
    unique_groups = sorted(set(groups))
    rng = np.random.default_rng(seed)
    left_out = set(rng.choice(unique_groups, size=max(1, round(len(unique_groups) * CALIBRATION_SHARE)),
                              replace=False))
    calibrate = np.array([group in left_out for group in groups])
    fit = ~calibrate
    if len(set(labels[fit])) < classes or calibrate.sum() == 0:
        raise ValueError("Too few training images to fit the novelty check: every class needs images in the fit.")
    pca = PCA(n_components=min(COMPONENTS, int(fit.sum()) - 1, features.shape[1]), random_state=seed)
    projected = pca.fit_transform(features[fit])
    class_means = np.stack([projected[labels[fit] == label].mean(axis=0) for label in range(classes)])
    residuals = projected - class_means[labels[fit]]
    precision = LedoitWolf().fit(residuals).precision_
    distribution = TrainingDistribution(centre=pca.mean_, components=pca.components_, class_means=class_means,
                                        precision=precision, threshold=np.inf)
    calibration_distances = distribution.distances(features[calibrate])
    threshold = float(np.percentile(calibration_distances, THRESHOLD_PERCENTILE))
    distribution = TrainingDistribution(centre=pca.mean_, components=pca.components_, class_means=class_means,
                                        precision=precision, threshold=threshold)
    summary = {"fit_images": int(fit.sum()), "calibration_images": int(calibrate.sum()),
               "components": int(pca.n_components_), "threshold": round(threshold, 4),
               "threshold_percentile": THRESHOLD_PERCENTILE}
    return distribution, summary
