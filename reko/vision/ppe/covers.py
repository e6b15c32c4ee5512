"""Whether a head, a face or a hand is covered (hard hat, mask, glove): small models trained here on CC0 photos.

No registry package ships a PPE model. Everything is fitted on the training half of the CC0 hard-hat and face-mask
sets (grouped by image): HEAD_COVER is a fine-tuned network (`ppe-head-cover`, `scripts/finetune_head_cover.py`);
FACE_COVER is an L2 logistic regression, fitted with the curves that turn detector scores into the measured
probability that a located part is right (`ppe-covers`, `scripts/train_ppe_covers.py`); HAND_COVER is a logistic
regression of its own (`ppe-hand-cover`). The features differ by part, each the better one in grouped
cross-validation on the training half (the scripts print it):
- a head: EfficientNet-Lite0's stride-32 tail fine-tuned on head crops (`ppe-head-cover`,
  `scripts/finetune_head_cover.py`), continuing from the crop's stride-16 map of the shared feature pass, with the
  face-mask set's heads (street photos, no hard hat in them) among the bare heads. On the training half's head crops
  (grouped 5-fold, calibrated): log-loss 0.131, accuracy 0.953, bare-head recall 0.936, against 0.153 / 0.932 / 0.917
  for a logistic head on the frozen multi-level features and 0.165 / 0.928 / 0.914 on the pooled features alone. A
  hue / saturation / value histogram of the head's top (hats are few, saturated colours) once read accuracy 0.90
  but log-loss 0.41, and called a presenter before a cyan screen a hard hat: colour is not a hat;
- a hand: Lite0's pooled features of the hand crop (the first columns of the same pass; the multi-level ones read
  calibrated log-loss 0.380 against 0.377 in `scripts/train_hand_cover.py`'s folds), fitted
  (`scripts/train_hand_cover.py`, its own file `ppe-hand-cover`) on hands Reko located on the same photos and
  labelled glove / bare by eye
  (`docs/hand-cover-labels.md`): no glove data set exists;
- a face: the face-wear vector (`FaceWearEstimator.face_vectors`: texture maps of the age network and colour and
  edge bands, on the face aligned by its 5 keypoints): accuracy 0.94 against 0.72-0.86 for Lite0 crops at the
  set's small faces (median 20 px).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reko.vision.catalog import ModelError
from reko.vision.image_features import IMAGE_FEATURES_DIMENSIONS, MultiLevelFeatures
from reko.vision.labels.confidence import LogisticCurve
from reko.vision.ppe.parts import Placement
from reko.vision.runtime import Runtime

COVERS = ("face_cover",)  # HEAD_COVER is its own network, `ppe-head-cover`
CURVES = ("face", "head_from_face", "head_from_pose", *COVERS)
# Context around a head's box in its crop: a hard hat's brim lies at the box's edge.
# Chosen on the training half (scripts/train_ppe_covers.py prints the grouped-CV accuracy of each choice); checked
# again with the multi-level features (2026-12-01, best C each): margins 0.05 / 0.15 / 0.3 / 0.5 read calibrated
# log-loss 0.167 / 0.153 / 0.188 / 0.204.
HEAD_CROP_MARGIN = 0.15
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
    placements: dict[str, Placement]  # "face" / "pose" → head placement from a face box / a pose reference box
    curves: dict[str, LogisticCurve]  # also one per cover head: its raw output → calibrated probability

    def cover_probability(self, name: str, features: np.ndarray) -> np.ndarray:
        """(n,) calibrated P(covered) from (n, d) features of one cover head."""
        return self.curves[name].probability(self.heads[name].probability(features))

    @classmethod
    def load(cls, path: Path, face_dimensions: int) -> CoverModels:
        with np.load(path) as stored:
            heads = {
                name: LogisticHead(
                    stored[f"{name}.mean"], stored[f"{name}.scale"], stored[f"{name}.weights"],
                    float(stored[f"{name}.bias"][0]),
                )
                for name in COVERS
            }
            dimensions = {"face_cover": face_dimensions}
            if any(heads[name].weights.shape != (dimensions[name],) for name in COVERS):
                raise ModelError("ppe-covers: fitted on other features; rerun scripts/train_ppe_covers.py")
            placements = {name: Placement.from_array(stored[f"placement.{name}"]) for name in ("face", "pose")}
            curves = {name: LogisticCurve(*map(float, stored[f"curve.{name}"])) for name in CURVES}
        return cls(heads, placements, curves)


@dataclass(frozen=True)
class HandCoverModel:
    """P(glove) of hand crops' features: the logistic head, then its calibration curve."""

    head: LogisticHead
    curve: LogisticCurve
    margin: float  # context around a hand's box in its crop, chosen by the script (a glove's cuff is at the edge)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """(n,) float32 calibrated P(glove) from (n, 1280) image features of hand crops."""
        if not len(features):
            return np.zeros(0, np.float32)
        return self.curve.probability(self.head.probability(features))

    @classmethod
    def load(cls, path: Path) -> HandCoverModel:
        with np.load(path) as stored:
            head = LogisticHead(stored["hand_cover.mean"], stored["hand_cover.scale"], stored["hand_cover.weights"],
                                float(stored["hand_cover.bias"][0]))
            curve = LogisticCurve(*map(float, stored["curve.hand_cover"]))
            margin = float(stored["hand_cover.margin"][0])
        if head.weights.shape != (IMAGE_FEATURES_DIMENSIONS,):
            raise ModelError("ppe-hand-cover: fitted on other features; rerun scripts/train_hand_cover.py")
        return cls(head, curve, margin)


def crop(rgb: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The box widened by `margin` of its size on every side, cut to the image (at least a few pixels)."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    pad_x, pad_y = margin * (x2 - x1), margin * (y2 - y1)
    left, top = int(max(0, np.floor(x1 - pad_x))), int(max(0, np.floor(y1 - pad_y)))
    right, bottom = int(min(width, np.ceil(x2 + pad_x))), int(min(height, np.ceil(y2 + pad_y)))
    right, bottom = max(right, min(width, left + MIN_CROP_SIDE_PX)), max(bottom, min(height, top + MIN_CROP_SIDE_PX))
    return np.ascontiguousarray(rgb[top:bottom, left:right])


FaceVectors = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (rgb, (m, 5, 2) keypoints) -> (m, d)


class CoverEstimator:
    """Probabilities that heads wear a hard hat, faces a mask and hands a glove.

    Args:
        runtime: for the image features, the `ppe-head-cover` network and the `ppe-covers` and `ppe-hand-cover` files.
        face_vectors: the face pipeline's `FaceWearEstimator.face_vectors` (its sessions, shared).
        face_dimensions: the length of what `face_vectors` returns.
    """

    def __init__(self, runtime: Runtime, face_vectors: FaceVectors, face_dimensions: int) -> None:
        self.features = MultiLevelFeatures(runtime)
        self.head_cover = runtime.session("ppe-head-cover")
        self.face_vectors = face_vectors
        self.models = CoverModels.load(runtime.model_path("ppe-covers"), face_dimensions)
        self.gloves = HandCoverModel.load(runtime.model_path("ppe-hand-cover"))

    def heads_and_hands_covered(
        self, rgb: np.ndarray, heads: np.ndarray, hands: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n,) P(hard hat) of (n, 4) xyxy heads and (m,) P(glove) of (m, 4) xyxy hands, in one batched feature
        pass (heads and hands share batches of `FEATURE_BATCH_SIZE` crops), then HEAD_COVER's tail on the heads'
        stride-16 maps."""
        crops = [crop(rgb, box, HEAD_CROP_MARGIN) for box in heads]
        crops += [crop(rgb, box, self.gloves.margin) for box in hands]
        features, maps = self.features.describe_with_maps(crops)
        hard_hats = np.zeros(0, np.float32)
        if len(heads):
            hard_hats = self.head_cover.run(None, {"maps": maps[: len(heads)]})[0].astype(np.float32)
        return hard_hats, self.gloves.probability(features[len(heads) :, :IMAGE_FEATURES_DIMENSIONS])

    def faces_covered(self, rgb: np.ndarray, face_keypoints: np.ndarray) -> np.ndarray:
        """(m,) float32 P(mask on face) for (m, 5, 2) face keypoints."""
        if not len(face_keypoints):
            return np.zeros(0, np.float32)
        return self.models.cover_probability("face_cover", self.face_vectors(rgb, face_keypoints))

