"""Eyeglasses, sunglasses, beard, mustache and occlusion probabilities for detected faces.

No registry package ships a model for these, so each is a logistic regression fitted by
`scripts/train_face_wear.py` on two kinds of features of the same face: learnt texture maps from the middle
of the age network (`face_features`) and measured colour and edge bands of the aligned face
(`face_wear_features`), from faces labelled for this project and the CC0 mask set. Together they match
or beat either alone in `bench/face_wear.py`'s grouped cross-validation (eyeglasses AUC 0.95 against 0.90 for the
hand-made features alone). The weights are a small bundled file listed in the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reko.vision.catalog import ModelError
from reko.vision.faces.features import FaceTextureFeatures, band_features, texture_feature_names
from reko.vision.faces.wear_features import faces_wear_features, feature_names
from reko.vision.runtime import Runtime

ATTRIBUTES = ("eyeglasses", "sunglasses", "beard", "mustache", "occluded")


@dataclass(frozen=True)
class FaceWear:
    """Probabilities in [0, 1] that a face shows each attribute.

    `eyeglasses` counts any spectacles, sunglasses included; `occluded` means an object such as a mask,
    hand or phone hides part of the face (glasses and facial hair do not count).
    """

    eyeglasses: float
    sunglasses: float
    beard: float
    mustache: float
    occluded: float

    def __post_init__(self) -> None:
        for name in ATTRIBUTES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} probability {value} is outside [0, 1]")


@dataclass(frozen=True)
class _Heads:
    mean: np.ndarray  # (k, d) per attribute, in ATTRIBUTES order
    scale: np.ndarray  # (k, d)
    weights: np.ndarray  # (k, d)
    bias: np.ndarray  # (k,)


def face_vector_names() -> list[str]:
    """Names of the columns of `face_vectors`: the texture features, then the hand-made ones."""
    return texture_feature_names() + feature_names()


class FaceWearEstimator:
    """The wear heads and the features they read, loaded once."""

    def __init__(self, runtime: Runtime) -> None:
        self._texture = FaceTextureFeatures(runtime)
        self._heads = _load_heads(runtime.model_path("face-wear-heads"))

    def face_vectors(
        self, rgb: np.ndarray, keypoints: np.ndarray, texture_maps: np.ndarray | None = None
    ) -> np.ndarray:
        """What the heads read, one row per face (training calls this too, so both see the same numbers).

        Args:
            rgb: (h, w, 3) uint8 image.
            keypoints: (n, 5, 2) pixels, as in `FaceBoxes.keypoints`.
            texture_maps: the age network's maps of these faces when an age run already made them.

        Returns:
            (n, len(face_vector_names())) float32.
        """
        texture = self._texture.extract(rgb, keypoints) if texture_maps is None else band_features(texture_maps)
        return np.hstack([texture, faces_wear_features(rgb, keypoints)])

    def estimate(
        self, rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, texture_maps: np.ndarray | None = None
    ) -> list[FaceWear]:
        """What each face wears.

        Args:
            rgb: (h, w, 3) uint8 image.
            boxes: (n, 4) xyxy pixels; only their count is used, the keypoints place the face.
            keypoints: (n, 5, 2) pixels, as in `FaceBoxes.keypoints`.
            texture_maps: (n, 128, 7, 7) from `AgeGenderEstimator.read_with_texture` of the same faces, if run.

        Returns:
            One `FaceWear` per face, in input order.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (h, w, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
        if keypoints.shape != (len(boxes), 5, 2):
            raise ValueError(f"expected ({len(boxes)}, 5, 2) keypoints, got {keypoints.shape}")
        if len(keypoints) == 0:
            return []
        heads = self._heads
        vectors = self.face_vectors(rgb, keypoints, texture_maps)[:, None, :]  # (n, 1, d) against (k, d) heads
        logits = (((vectors - heads.mean) / heads.scale) * heads.weights).sum(axis=2) + heads.bias
        probabilities = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        return [FaceWear(**dict(zip(ATTRIBUTES, row.tolist(), strict=True))) for row in probabilities]


def _load_heads(path: Path) -> _Heads:
    with np.load(path) as stored:
        if list(stored["feature_names"]) != face_vector_names():
            raise ModelError("face-wear-heads: fitted on other features; rerun scripts/train_face_wear.py")
        return _Heads(
            mean=np.stack([stored[f"{name}.mean"] for name in ATTRIBUTES]),
            scale=np.stack([stored[f"{name}.scale"] for name in ATTRIBUTES]),
            weights=np.stack([stored[f"{name}.weights"] for name in ATTRIBUTES]),
            bias=np.concatenate([stored[f"{name}.bias"] for name in ATTRIBUTES]),
        )
