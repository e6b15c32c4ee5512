"""A trained Custom Labels model: its labels, thresholds and heads; saved as one versioned .npz artefact.

The artefact holds only what training produced (heads, thresholds, label names); the frozen backbone it reads is the
catalogued `image-features-multilevel` / `image-feature-maps` model, so an artefact is small (two labels: ~27 kB
classifier, ~0.3 MB detector with its three stages). `ARTEFACT_FORMAT` goes up when the layout changes; an artefact
of another format is refused rather than misread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from reko.vision.image_features import IMAGE_FEATURES_DIMENSIONS, MultiLevelFeatures
from reko.vision.training.box_refinement import Refiner
from reko.vision.training.crop_refinement import CropStage
from reko.vision.training.detection import BoxHead, DetectionHeads, FeatureMaps
from reko.vision.training.detector import Detector, find_objects
from reko.vision.training.heads import LinearHeads, SoftmaxHead, view_probabilities
from reko.vision.training.views import serving_views

# 2: detection's second stage (`refine_*`); 3: multi-level classifiers; 4: detection's crop stage (`crop_*`, per-label
# heads); 5: the crop stage as one softmax over background and the labels (`crop_weights` (d, k + 1)).
ARTEFACT_FORMAT = "reko-custom-labels-5"
# A format-1 detector runs its first stage only, formats 2-3 two stages, format 4 its per-label crop stage; a
# format-1 or -2 classifier reads the pooled features alone.
READABLE_FORMATS = ("reko-custom-labels-1", "reko-custom-labels-2", "reko-custom-labels-3", "reko-custom-labels-4",
                    ARTEFACT_FORMAT)
POOLED_CLASSIFIER_FORMATS = ("reko-custom-labels-1", "reko-custom-labels-2")
CLASSIFICATION = "classification"
DETECTION = "detection"


@dataclass(frozen=True)
class Found:
    label: str
    probability: float  # 0-1
    box: tuple[float, float, float, float] | None  # Left, Top, Width, Height as ratios of the image; detection


@dataclass(frozen=True)
class CustomModel:
    kind: str  # CLASSIFICATION | DETECTION
    labels: tuple[str, ...]
    thresholds: np.ndarray  # (k,) each label's assumed threshold, probability 0-1
    classifier: LinearHeads | None = None
    detector: Detector | None = None
    classifier_reads_pooled_only: bool = False  # a classifier trained before format 3: the first 1280 columns

    def __post_init__(self) -> None:
        if self.classifier is not None and self.classifier_reads_pooled_only:
            if self.classifier.mean.shape != (IMAGE_FEATURES_DIMENSIONS,):
                raise ValueError("a classifier of an earlier format must read the 1280 pooled features")

    @property
    def artefact_format(self) -> str:
        """The current format, or 4 for a detector whose crop stage has per-label heads (trained before 5)."""
        if self.detector is not None and isinstance(self.detector.crops, Refiner):
            return "reko-custom-labels-4"
        return ARTEFACT_FORMAT

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {
            "format": np.array(self.artefact_format), "kind": np.array(self.kind), "labels": np.array(self.labels),
            "thresholds": self.thresholds.astype(np.float32),
        }
        detector = self.detector
        heads = self.classifier if self.classifier is not None else detector.first.classes if detector else None
        assert heads is not None
        arrays |= {"mean": heads.mean, "scale": heads.scale, "weights": heads.weights, "bias": heads.bias}
        if self.detector is not None:
            box = self.detector.first.boxes
            arrays |= {"box_mean": box.mean, "box_scale": box.scale, "box_weights": box.weights,
                       "box_bias": box.bias}
            for prefix, stage in (("refine", self.detector.refiner), ("crop", self.detector.crops)):
                if stage is not None:
                    arrays |= _stage_arrays(prefix, stage.classes, stage.boxes)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CustomModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            if str(stored["format"]) not in READABLE_FORMATS:
                raise ValueError(f"artefact format {stored['format']} is not one of {READABLE_FORMATS}")
            heads = LinearHeads(stored["mean"], stored["scale"], stored["weights"], stored["bias"])
            kind = str(stored["kind"])
            labels = tuple(str(label) for label in stored["labels"])
            thresholds = stored["thresholds"]
            if kind == CLASSIFICATION:
                return cls(kind, labels, thresholds, classifier=heads,
                           classifier_reads_pooled_only=str(stored["format"]) in POOLED_CLASSIFIER_FORMATS)
            box = BoxHead(stored["box_mean"], stored["box_scale"], stored["box_weights"], stored["box_bias"])
            crops = _stored_crop_stage(stored) if str(stored["format"]) == ARTEFACT_FORMAT else _stored_refiner(
                stored, "crop")
            detector = Detector(DetectionHeads(heads, box), _stored_refiner(stored, "refine"), crops)
            return cls(kind, labels, thresholds, detector=detector)


def _stage_arrays(prefix: str, classes: LinearHeads | SoftmaxHead, boxes: BoxHead) -> dict[str, np.ndarray]:
    return {f"{prefix}_mean": classes.mean, f"{prefix}_scale": classes.scale,
            f"{prefix}_weights": classes.weights, f"{prefix}_bias": classes.bias,
            f"{prefix}_box_mean": boxes.mean, f"{prefix}_box_scale": boxes.scale,
            f"{prefix}_box_weights": boxes.weights, f"{prefix}_box_bias": boxes.bias}


def _stored_refiner(stored: np.lib.npyio.NpzFile, prefix: str) -> Refiner | None:
    if f"{prefix}_weights" not in stored:
        return None
    return Refiner(LinearHeads(*_stored_classes(stored, prefix)), _stored_boxes(stored, prefix))


def _stored_crop_stage(stored: np.lib.npyio.NpzFile) -> CropStage | None:
    if "crop_weights" not in stored:
        return None
    return CropStage(SoftmaxHead(*_stored_classes(stored, "crop")), _stored_boxes(stored, "crop"))


def _stored_classes(stored: np.lib.npyio.NpzFile, prefix: str) -> tuple[np.ndarray, ...]:
    return tuple(stored[f"{prefix}_{name}"] for name in ("mean", "scale", "weights", "bias"))


def _stored_boxes(stored: np.lib.npyio.NpzFile, prefix: str) -> BoxHead:
    return BoxHead(*(stored[f"{prefix}_box_{name}"] for name in ("mean", "scale", "weights", "bias")))


class CustomModelRunner:
    """Runs trained models: the shared backbones, loaded once, and the model's heads."""

    def __init__(self, features: MultiLevelFeatures, feature_maps: FeatureMaps) -> None:
        self.features = features
        self.feature_maps = feature_maps

    def find(self, model: CustomModel, rgb: np.ndarray, floor: float) -> list[Found]:
        """Labels (classification) or labelled boxes (detection) whose probability reaches `floor`, best first."""
        height, width = rgb.shape[:2]
        found: list[Found] = []
        if model.classifier is not None:
            views = self.features.describe(serving_views(rgb))[None]
            if model.classifier_reads_pooled_only:
                views = views[..., :IMAGE_FEATURES_DIMENSIONS]
            probabilities = view_probabilities(model.classifier, views)[0]
            found = [Found(label, float(p), None) for label, p in zip(model.labels, probabilities, strict=True)
                     if p >= floor]
        elif model.detector is not None:
            grid = self.feature_maps.describe(rgb)
            for group in find_objects(model.detector, grid, floor, self.feature_maps):
                for (x0, y0, x1, y1), score in zip(group.boxes, group.scores, strict=True):
                    x0, y0 = max(float(x0), 0.0), max(float(y0), 0.0)
                    x1, y1 = min(float(x1), width), min(float(y1), height)
                    if x1 > x0 and y1 > y0:
                        box = (x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height)
                        found.append(Found(model.labels[group.label_index], float(score), box))
        return sorted(found, key=lambda item: -item.probability)
