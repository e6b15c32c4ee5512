"""Smile, eyes open, mouth open: calibrated readings of mesh geometry and the expression model.

These are not separate networks: each turns measured numbers (lid gap over eye width, lip gap over mouth
width, the expression model's HAPPY probability and the mouth's width) into a probability with a logistic
curve fitted on hand-labelled faces. EyesOpen reads the iris model's eye contours when the geometry has
them (`FaceGeometry.lid_gap_*`) and falls back on the coarser mesh, which misses most closed eyes.

The curves' weights are a catalogued artefact (`face-expression-curves`, a JSON file beside the models)
written by `scripts/fit_expression_curves.py`; `python -m bench.face_expressions` measures their
cross-validated accuracy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reko.vision.faces.head_pose import FaceGeometry

CURVE_NAMES = ("eyes_open", "eyes_open_mesh", "mouth_open", "smile")
FORMAT_VERSION = 1


def eyes_open_features(geometry: FaceGeometry) -> tuple[float, ...]:
    """Both eyes' mean lid gap on the iris model's contours (`eyes_open_mesh_features` without them).

    Raises:
        ValueError: the geometry was measured without eye contours.
    """
    left, right = geometry.lid_gap_image_left, geometry.lid_gap_image_right
    if left is None or right is None:
        raise ValueError("the geometry has no lid gaps: measure it with the iris model's eye contours")
    return ((left + right) / 2,)


def eyes_open_mesh_features(geometry: FaceGeometry) -> tuple[float, ...]:
    """The more open eye's mesh aspect ratio: a head turned so far that one eye hides still reads 'open'."""
    return (max(geometry.eye_openness_image_left, geometry.eye_openness_image_right),)


def mouth_open_features(geometry: FaceGeometry) -> tuple[float, ...]:
    return (geometry.mouth_openness,)


def smile_features(geometry: FaceGeometry, happy_probability: float) -> tuple[float, ...]:
    """The HAPPY probability, and mouth width over inter-ocular distance (a smile widens the mouth)."""
    return (happy_probability, geometry.mouth_width_ratio)


GEOMETRY_FEATURES: dict[str, Callable[[FaceGeometry], tuple[float, ...]]] = {
    "eyes_open": eyes_open_features,
    "eyes_open_mesh": eyes_open_mesh_features,
    "mouth_open": mouth_open_features,
}


@dataclass(frozen=True)
class Curve:
    """p = logistic(weights . features + bias), on raw features."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, features: tuple[float, ...]) -> float:
        logit = sum(f * w for f, w in zip(features, self.weights, strict=True)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(min(logit, 60.0), -60.0)))


@dataclass(frozen=True)
class ExpressionCurves:
    """The four fitted curves, loaded once per process by the face pipeline."""

    curves: Mapping[str, Curve]

    def __post_init__(self) -> None:
        if set(self.curves) != set(CURVE_NAMES):
            raise ValueError(f"expected curves {CURVE_NAMES}, got {sorted(self.curves)}")

    @classmethod
    def load(cls, path: Path) -> ExpressionCurves:
        """From the JSON `scripts/fit_expression_curves.py` writes."""
        document = json.loads(path.read_text())
        if document.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: unknown format {document.get('format')!r}")
        return cls({
            name: Curve(tuple(float(w) for w in curve["weights"]), float(curve["bias"]))
            for name, curve in document["curves"].items()
        })

    def eyes_open_probability(self, geometry: FaceGeometry) -> float:
        """From the iris model's lid gaps when the geometry has them, else from the mesh alone."""
        if geometry.lid_gap_image_left is None or geometry.lid_gap_image_right is None:
            return self.curves["eyes_open_mesh"].probability(eyes_open_mesh_features(geometry))
        return self.curves["eyes_open"].probability(eyes_open_features(geometry))

    def mouth_open_probability(self, geometry: FaceGeometry) -> float:
        return self.curves["mouth_open"].probability(mouth_open_features(geometry))

    def smile_probability(self, geometry: FaceGeometry, happy_probability: float) -> float:
        return self.curves["smile"].probability(smile_features(geometry, happy_probability))
