"""Cross-validated accuracy of the Smile, EyesOpen and MouthOpen curves (reko/vision/faces/expressions.py).

The labels are hand-made (`bench/labels/face_expressions.csv`: 300 random LFW faces, every AFW face and every
WIDER face of at least 60 px, plus LFW faces picked for low eye or high mouth openness; a blank label means the
face could not be judged). Each face is re-measured by the pipeline, the curve's logistic regression is refitted
inside 5 stratified folds grouped by LFW person (or by photo elsewhere) and scored on the held-out fold at 0.5,
beside the majority-class baseline. EyesOpen is scored twice: on the iris model's lid gaps (the shipped curve
when the iris model runs) and on the mesh alone (its fallback). The shipped curves
(`scripts/fit_expression_curves.py`) are fitted on all these faces: their rows are in-sample.

Run from the repository root: `.venv/bin/python -m bench.face_expressions [DATA_DIR]`.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from bench import report
from bench.datasets import DATA_DIR
from bench.label_samples import score_by_sample
from bench.metrics import grouped_folds, out_of_fold, score_row
from bench.models import face_pipeline
from reko.pipelines.faces import FaceAnalysis, Needs
from reko.vision.boxes import iou_matrix
from reko.vision.faces.expressions import GEOMETRY_FEATURES, smile_features
from reko.vision.faces.head_pose import FaceGeometry, face_geometry

# Inverse L2 strength on standardised features: a tie-breaker, not a prior, so nothing is chosen here.
C_CURVES = 100.0
LABELS_FILE = Path(__file__).resolve().parent / "labels" / "face_expressions.csv"
ATTRIBUTES = ("smile", "eyes_open", "mouth_open")  # label columns
# Curves scored, each on its attribute's labels.
CURVES = ("smile", "eyes_open", "eyes_open_mesh", "mouth_open")
LABEL_OF_CURVE = {"eyes_open_mesh": "eyes_open"}
MIN_MATCH_IOU = 0.5


@dataclass(frozen=True)
class LabelledFace:
    image: str  # path relative to the data folder
    box: np.ndarray  # (4,) xyxy pixels
    labels: dict[str, int | None]  # None: not judged
    sample: str  # random | all | picked

    @property
    def group(self) -> str:
        """LFW person (several photos each), else the photo itself: folds never split a group."""
        path = Path(self.image)
        return path.parent.name if "lfw" in path.parts else path.stem


def geometry_of(face: FaceAnalysis) -> FaceGeometry:
    """The face's geometry with the iris model's lid gaps (re-measured when the pipeline left them out)."""
    if face.geometry.lid_gap_image_left is not None or face.mesh.eye_contours is None:
        return face.geometry
    return face_geometry(face.mesh.points, face.mesh.eye_contours)


def features(name: str, face: FaceAnalysis) -> tuple[float, ...]:
    """The shipped curve's features for one curve of `CURVES`."""
    geometry = geometry_of(face)
    if name == "smile":
        return smile_features(geometry, face.emotions["happy"] if face.emotions else 0.0)
    return GEOMETRY_FEATURES[name](geometry)


def shipped_probability(name: str, face: FaceAnalysis) -> float:
    curves = face_pipeline().expression_curves
    geometry = geometry_of(face)
    if name == "smile":
        return curves.smile_probability(geometry, face.emotions["happy"] if face.emotions else 0.0)
    if name == "eyes_open":
        return curves.eyes_open_probability(geometry)
    if name == "eyes_open_mesh":
        return curves.eyes_open_probability(replace(geometry, lid_gap_image_left=None, lid_gap_image_right=None))
    return curves.mouth_open_probability(geometry)


def load_labels(path: Path = LABELS_FILE) -> list[LabelledFace]:
    with path.open(newline="") as handle:
        return [
            LabelledFace(
                image=row["image"],
                box=np.array([float(row[key]) for key in ("x0", "y0", "x1", "y1")]),
                labels={name: int(row[name]) if row[name] else None for name in ATTRIBUTES},
                sample=row["sample"],
            )
            for row in csv.DictReader(handle)
        ]


def measure(labelled: list[LabelledFace], data_dir: Path) -> list[FaceAnalysis | None]:
    """The pipeline's face matching each labelled box (None when no detection overlaps it)."""
    found: list[FaceAnalysis | None] = []
    for face in labelled:
        rgb = np.asarray(Image.open(data_dir / face.image).convert("RGB"))
        analyses = face_pipeline().analyze(rgb, Needs(iris=True, emotions=True))
        overlaps = list(iou_matrix(face.box[None], np.array([analysis.box for analysis in analyses]))[0])
        best = int(np.argmax(overlaps)) if overlaps else -1
        found.append(analyses[best] if best >= 0 and overlaps[best] >= MIN_MATCH_IOU else None)
    return found


def labelled_sets(data_dir: Path) -> dict[str, tuple[list[LabelledFace], list[FaceAnalysis], np.ndarray]]:
    """Per curve of `CURVES`: the judged, detected faces, their measurements and 0/1 labels."""
    labelled = load_labels()
    measured = measure(labelled, data_dir)
    sets = {}
    for name in CURVES:
        attribute = LABEL_OF_CURVE.get(name, name)
        kept = [(face, found) for face, found in zip(labelled, measured, strict=True)
                if found is not None and face.labels[attribute] is not None]
        sets[name] = ([face for face, _ in kept], [found for _, found in kept],
                      np.array([face.labels[attribute] for face, _ in kept], np.float64))
    return sets


def run(data_dir: Path) -> list[dict[str, object]]:
    """Per curve: cross-validated refits, and the shipped constants (fitted on these same faces)."""
    rows = []
    for name, (faces, found, labels) in labelled_sets(data_dir).items():
        x = np.array([features(name, analysis) for analysis in found])
        folds = grouped_folds(labels, [face.group for face in faces])
        cross_validated = out_of_fold(x, labels, folds, C_CURVES)
        shipped = np.array([shipped_probability(name, analysis) for analysis in found])
        samples = [face.sample for face in faces]
        rows += score_by_sample(score_row, labels, cross_validated, samples, attribute=name, method="5-fold grouped CV")
        rows.append(score_row(labels, shipped, attribute=name, method="shipped (in-sample)", sample="every face"))
    return rows




def main(argv: list[str]) -> None:
    data_dir = Path(argv[0]) if argv else DATA_DIR
    if not data_dir.is_dir():
        raise SystemExit(f"no evaluation data at {data_dir}")
    rows = run(data_dir)
    report.save("face_expressions", rows)
    sys.stdout.write(report.markdown(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
