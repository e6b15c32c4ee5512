"""Landmark error (NME) on AFW: Reko's FaceMesh landmarks against dlib's 68-point model and YuNet's 5 points.

Set: faces/landmarks_afw in ../shared/data, 43 photos with one face each annotated with the 68 iBUG points.

Rules, the same for every method:
- Face box: Reko's FaceDetector runs on the photo; the box that overlaps the GT landmarks' extent (their
  min/max box) most by IoU is the face. Every method gets that same box (and YuNet's 5 keypoints with it,
  which Reko's mesh uses to level the eyes). A photo with no overlapping box counts as a miss.
- NME per face: mean point-to-point distance over inter-ocular distance (outer eye corners, iBUG 37 and 46
  in 1-based numbering), reported as mean and median over faces, in percent.
- `nme5`: eye centres (mean of each eye's 6 iBUG points), nose tip (31), mouth corners (49, 55).
- `nme28`: the 28 Rekognition landmark types that have an iBUG equivalent (all but the pupils), table
  `IBUG_BY_LANDMARK`. YuNet has no such points.
- `ms_per_face`: landmark time only (not detection), after one untimed warm-up face; rough when the
  machine is shared.
- "2-pass": the mesh re-run on a crop around its own first points (`FaceMesh(bench_runtime(), refine=True)`).

Run: `python -m bench.landmarks [--data-dir DIR]`; writes bench/results/landmarks.json.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bench import report
from bench.datasets import DATA_DIR
from bench.models import bench_runtime
from reko.operations.faces.landmarks import landmark_pixels
from reko.vision.boxes import iou_matrix
from reko.vision.faces.detector import FaceDetector
from reko.vision.faces.mesh import FaceMesh

AFW_DIR = Path("faces") / "landmarks_afw"
IBUG_POINTS = 68
OUTER_EYE_CORNERS = (36, 45)  # 0-based iBUG
# Rekognition landmark type -> 0-based iBUG points whose mean is its ground truth.
IBUG_BY_LANDMARK: dict[str, tuple[int, ...]] = {
    "eyeLeft": (36, 37, 38, 39, 40, 41), "eyeRight": (42, 43, 44, 45, 46, 47), "nose": (30,),
    "mouthLeft": (48,), "mouthRight": (54,),
    "leftEyeBrowLeft": (17,), "leftEyeBrowRight": (21,), "leftEyeBrowUp": (19,),
    "rightEyeBrowLeft": (22,), "rightEyeBrowRight": (26,), "rightEyeBrowUp": (24,),
    "leftEyeLeft": (36,), "leftEyeRight": (39,), "leftEyeUp": (37, 38), "leftEyeDown": (40, 41),
    "rightEyeLeft": (42,), "rightEyeRight": (45,), "rightEyeUp": (43, 44), "rightEyeDown": (46, 47),
    "noseLeft": (31,), "noseRight": (35,), "mouthUp": (51,), "mouthDown": (57,),
    "upperJawlineLeft": (0,), "midJawlineLeft": (4,), "chinBottom": (8,), "midJawlineRight": (12,),
    "upperJawlineRight": (16,),
}
FIVE_TYPES = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")
ALL_TYPES = tuple(IBUG_BY_LANDMARK)

# A method takes (rgb, box (4,) xyxy px, keypoints (5, 2) px) and returns pixels for ALL_TYPES
# ((28, 2)) or, when it only knows five points, for FIVE_TYPES ((5, 2)).
Method = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Face:
    path: Path
    truth: np.ndarray  # (68, 2) px
    box: np.ndarray | None  # (4,) xyxy px, the detector's box for this face
    keypoints: np.ndarray | None  # (5, 2) px


def ibug_to_types(points: np.ndarray, types: Sequence[str]) -> np.ndarray:
    """(len(types), 2) landmark positions from (68, 2) iBUG points."""
    return np.stack([points[list(IBUG_BY_LANDMARK[name])].mean(axis=0) for name in types])


def nme(predicted: np.ndarray, truth: np.ndarray, inter_ocular: float) -> float:
    return float(np.linalg.norm(predicted - truth, axis=1).mean() / inter_ocular)


def load_faces(data_dir: Path, detector: FaceDetector) -> list[Face]:
    faces = []
    for path in sorted((data_dir / AFW_DIR).glob("*.jpg")):
        truth = np.loadtxt(path.with_suffix(".pts"), dtype=np.float64).reshape(IBUG_POINTS, 2)
        found = detector.find_faces(read_rgb(path))
        extent = np.concatenate([truth.min(axis=0), truth.max(axis=0)])
        overlaps = iou_matrix(found.boxes, extent[None])[:, 0]
        if len(overlaps) == 0 or overlaps.max() <= 0:
            faces.append(Face(path, truth, None, None))
            continue
        best = int(overlaps.argmax())
        faces.append(Face(path, truth, found.boxes[best].astype(np.float64),
                          found.keypoints[best].astype(np.float64)))
    return faces


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def reko_method(refine: bool = False) -> Method:
    mesh = FaceMesh(bench_runtime(), refine=refine)

    def landmarks(rgb: np.ndarray, box: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        points = mesh.find_landmarks(rgb, box[None], keypoints[None])[0].points
        return landmark_pixels(points, ALL_TYPES)

    return landmarks


def dlib_method() -> Method:
    import dlib  # bench extra
    import face_recognition_models

    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())

    def landmarks(rgb: np.ndarray, box: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        rectangle = dlib.rectangle(*(int(round(v)) for v in box))
        shape = predictor(rgb, rectangle)
        points = np.array([[part.x, part.y] for part in shape.parts()], np.float64)
        return ibug_to_types(points, ALL_TYPES)

    return landmarks


def yunet_method() -> Method:
    def landmarks(rgb: np.ndarray, box: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        left_eye, right_eye, nose, mouth_left, mouth_right = keypoints
        return np.stack([left_eye, right_eye, nose, mouth_left, mouth_right])  # FIVE_TYPES order

    return landmarks


METHODS: dict[str, Callable[[], Method]] = {
    "reko FaceMesh+iris": reko_method,
    "reko FaceMesh+iris 2-pass": lambda: reko_method(refine=True),
    "dlib 68-point": dlib_method,
    "YuNet 5 points": yunet_method,
}


def evaluate(name: str, method: Method, faces: Sequence[Face]) -> dict[str, object]:
    five, larger, seconds, scored = [], [], 0.0, 0
    warm = next((face for face in faces if face.box is not None and face.keypoints is not None), None)
    if warm is not None and warm.box is not None and warm.keypoints is not None:
        method(read_rgb(warm.path), warm.box, warm.keypoints)  # first-run allocations are not timed
    for face in faces:
        if face.box is None or face.keypoints is None:
            continue
        rgb = read_rgb(face.path)
        start = time.perf_counter()
        predicted = method(rgb, face.box, face.keypoints)
        seconds += time.perf_counter() - start
        scored += 1
        corners = face.truth[list(OUTER_EYE_CORNERS)]
        inter_ocular = float(np.linalg.norm(corners[0] - corners[1]))
        if len(predicted) == len(ALL_TYPES):
            larger.append(nme(predicted, ibug_to_types(face.truth, ALL_TYPES), inter_ocular))
            predicted = predicted[[ALL_TYPES.index(t) for t in FIVE_TYPES]]
        five.append(nme(predicted, ibug_to_types(face.truth, FIVE_TYPES), inter_ocular))
    return {
        "set": "afw-43", "method": name, "faces": len(faces), "detected": scored,
        "nme5_mean_pct": _pct(np.mean(five)) if five else None,
        "nme5_median_pct": _pct(np.median(five)) if five else None,
        "nme5_failures_gt10pct": int(np.sum(np.array(five) > 0.10)),
        "nme28_mean_pct": _pct(np.mean(larger)) if larger else None,
        "nme28_median_pct": _pct(np.median(larger)) if larger else None,
        "ms_per_face": round(1000 * seconds / max(scored, 1), 2),
    }


def _pct(value: float | np.floating) -> float:
    return round(100 * float(value), 2)


def run(data_dir: Path = DATA_DIR, methods: Sequence[str] = tuple(METHODS)) -> list[dict[str, object]]:
    """One row per method on AFW (see the module docstring for the rules)."""
    faces = load_faces(data_dir, FaceDetector(bench_runtime()))
    return [evaluate(name, METHODS[name](), faces) for name in methods]



def main() -> None:
    parser = argparse.ArgumentParser(description="Landmark NME on AFW")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    rows = run(args.data_dir, [m.strip() for m in args.methods.split(",") if m.strip()])
    print(report.markdown(rows))
    report.save("landmarks", rows)


if __name__ == "__main__":
    main()
