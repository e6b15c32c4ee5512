"""Model scores → measured probabilities: the logistic curves behind DetectLabels' confidences.

The SSD's sigmoid class score and the classifier's softmax are rankings, not likelihoods. Each is mapped by a
logistic curve on its logit, fitted by scripts/fit_label_confidence.py on COCO images (catalogued as
"label-confidence"; data, split and fit in its .md): for the detector, the probability that a box is a true
positive at IoU 0.5, one curve for the whole-image pass and one for boxes fused over tiles (fusion's noisy-or
scores read higher for the same odds: held-out label recall 0.533 with one curve for both, 0.588 with two);
for the classifier, the probability that a label is in the image given the summed probability of the ImageNet
classes under it; for the face detector, the probability that a face it returns is a real face (the `Face`
label's instances).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LOGIT_CLIP = 1e-6  # keeps logit finite at scores of exactly 0 or 1


@dataclass(frozen=True)
class LogisticCurve:
    """p = 1 / (1 + exp(-(slope * logit(score) + intercept)))."""

    slope: float
    intercept: float

    def probability(self, scores: np.ndarray) -> np.ndarray:
        """(n,) float32 probabilities of (n,) scores in [0, 1]."""
        clipped = np.clip(np.asarray(scores, np.float64), LOGIT_CLIP, 1 - LOGIT_CLIP)
        z = self.slope * np.log(clipped / (1 - clipped)) + self.intercept
        return (1 / (1 + np.exp(-z))).astype(np.float32)


@dataclass(frozen=True)
class LabelConfidence:
    """Detector box score → P(true positive); classifier label probability → P(present); face score → P(face)."""

    detector: LogisticCurve
    detector_fused: LogisticCurve
    classifier: LogisticCurve
    face: LogisticCurve

    def objects(self, scores: np.ndarray, *, fused: bool) -> np.ndarray:
        """(n,) probabilities of detector boxes: `fused` when the detector's tiles ran (passes fused)."""
        return (self.detector_fused if fused else self.detector).probability(scores)

    @classmethod
    def load(cls, path: Path) -> LabelConfidence:
        data = json.loads(path.read_text())
        return cls(
            detector=LogisticCurve(**data["detector"]["curve"]),
            detector_fused=LogisticCurve(**data["detector_fused"]["curve"]),
            classifier=LogisticCurve(**data["classifier"]["curve"]),
            face=LogisticCurve(**data["face"]["curve"]),
        )
