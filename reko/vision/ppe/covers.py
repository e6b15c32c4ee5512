"""Whether a head or a face is covered (hard hat, mask): small logistic heads on frozen image features.

No registry package ships a PPE model. `scripts/train_ppe_covers.py` fits one L2 logistic regression per cover
on EfficientNet-Lite0's pooled features (`ImageFeatures`) of head and face crops from the CC0 hard-hat and
face-mask sets (training half, grouped by image), and the curves that turn detector scores into the measured
probability that a located part is right. Everything it fits is one small catalogued file, `ppe-covers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reko.vision.catalog import ModelError
from reko.vision.image_features import IMAGE_FEATURES_DIMENSIONS, ImageFeatures
from reko.vision.labels.confidence import LogisticCurve
from reko.vision.ppe.parts import Placement
from reko.vision.runtime import Runtime

COVERS = ("head_cover", "face_cover")
CURVES = ("face", "head_from_face", "head_from_person")
# Context around a part's box in its crop: a hard hat's brim and a mask's straps lie at the box's edges.
# Chosen on the training half (scripts/train_ppe_covers.py prints the grouped-CV accuracy of each choice).
HEAD_CROP_MARGIN = 0.15
FACE_CROP_MARGIN = 0.25
MIN_CROP_SIDE_PX = 4


@dataclass(frozen=True)
class LogisticHead:
    """p = sigmoid(((x - mean) / scale) @ weights + bias) over (n, d) features."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        logits = ((features - self.mean) / self.scale) @ self.weights + self.bias
        return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)


@dataclass(frozen=True)
class CoverModels:
    """What `scripts/train_ppe_covers.py` fits: the cover heads, the head placements, the confidence curves."""

    heads: dict[str, LogisticHead]
    placements: dict[str, Placement]  # "face" / "person" → head placement from that box
    curves: dict[str, LogisticCurve]

    @classmethod
    def load(cls, path: Path) -> CoverModels:
        with np.load(path) as stored:
            heads = {
                name: LogisticHead(
                    stored[f"{name}.mean"], stored[f"{name}.scale"], stored[f"{name}.weights"],
                    float(stored[f"{name}.bias"][0]),
                )
                for name in COVERS
            }
            if any(head.weights.shape != (IMAGE_FEATURES_DIMENSIONS,) for head in heads.values()):
                raise ModelError("ppe-covers: fitted on other features; rerun scripts/train_ppe_covers.py")
            placements = {name: Placement.from_array(stored[f"placement.{name}"]) for name in ("face", "person")}
            curves = {name: LogisticCurve(*map(float, stored[f"curve.{name}"])) for name in CURVES}
        return cls(heads, placements, curves)


def crop(rgb: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The box widened by `margin` of its size on every side, cut to the image (at least a few pixels)."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    pad_x, pad_y = margin * (x2 - x1), margin * (y2 - y1)
    left, top = int(max(0, np.floor(x1 - pad_x))), int(max(0, np.floor(y1 - pad_y)))
    right, bottom = int(min(width, np.ceil(x2 + pad_x))), int(min(height, np.ceil(y2 + pad_y)))
    right, bottom = max(right, min(width, left + MIN_CROP_SIDE_PX)), max(bottom, min(height, top + MIN_CROP_SIDE_PX))
    return np.ascontiguousarray(rgb[top:bottom, left:right])


class CoverEstimator:
    """Probabilities that heads wear a hard hat and faces a mask, from one batched feature pass."""

    def __init__(self, runtime: Runtime) -> None:
        self.features = ImageFeatures(runtime)
        self.models = CoverModels.load(runtime.model_path("ppe-covers"))

    def crop_features(self, rgb: np.ndarray, heads: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 1280) and (m, 1280) features of the (n, 4) head and (m, 4) face boxes' crops (one batch)."""
        crops = [crop(rgb, box, HEAD_CROP_MARGIN) for box in heads]
        crops += [crop(rgb, box, FACE_CROP_MARGIN) for box in faces]
        described = self.features.describe(crops)
        return described[: len(heads)], described[len(heads) :]

    def covered(self, rgb: np.ndarray, heads: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n,) P(hard hat on head) and (m,) P(mask on face), float32."""
        head_features, face_features = self.crop_features(rgb, heads, faces)
        return (
            self.models.heads["head_cover"].probability(head_features),
            self.models.heads["face_cover"].probability(face_features),
        )
