"""What the iris model still adds as eyes shrink: the evidence behind a speed-for-answers choice (issue 13).

The iris model is the largest per-face cost of DetectFaces ALL (two 64x64 eye crops a face, ~2 ms of CPU each),
and on a crowd its eyes are tiny: the WIDER crowd of `bench.latency` has eyes 3-5 px wide, cut out and enlarged
~10x for the model. Skipping it on small eyes would meet issue 13's crowd ratio, but would change answers, so
this bench measures what would be lost before anyone chooses.

Each labelled LFW face of `bench/labels/face_expressions.csv` (eyes 20+ px wide) is the reference: its mesh and
iris at full size. The photo is then shrunk (area averaging) until the eye (mesh corner to corner) is W px wide,
the mesh run again on the same detector keypoints scaled, with and without the iris model, and each reading is
compared with the full-size one:
- pupil: distance of the pupils (iris centres, or the eye-corner midpoints without the iris) from the
  full-size iris centres, over the full-size inter-pupil distance;
- gaze: |EyeDirection yaw| and |pitch| differences in degrees (without the iris the gaze is the head pose's);
  no gaze ground truth exists, so the full-size iris reading is the reference and the spread of that reading
  over the faces is the error of always answering its mean;
- EyesOpen: accuracy at 0.5 against the hand labels, with the shipped curves (lid gaps with the iris, the
  mesh's eye ratios without).

Run: `python -m bench.iris_size [--faces 300]` (needs ../shared/data).
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from PIL import Image

from bench import report
from bench.datasets import DATA_DIR
from bench.face_expressions import load_labels
from bench.models import face_pipeline
from reko.vision.boxes import iou_matrix
from reko.vision.faces.head_pose import FaceGeometry, face_geometry
from reko.vision.faces.mesh import EYE_CORNERS_A, EYE_CORNERS_B, FaceMeshResult

EYE_WIDTHS_PX = (3, 4, 5, 6, 8, 10, 12, 16)
PUPILS = [468, 473]  # iris centres in the 478-point order (corner midpoints without the iris)
MIN_MATCH_IOU = 0.5


def eye_width_px(points: np.ndarray) -> float:
    """Mean corner-to-corner width of both eyes, pixels."""
    return float(np.mean([np.linalg.norm(points[a, :2] - points[b, :2]) for a, b in (EYE_CORNERS_A, EYE_CORNERS_B)]))


def reading(mesh: FaceMeshResult, scale: float, curves: object) -> tuple[np.ndarray, FaceGeometry, float]:
    """Pupils in full-size pixels, geometry and P(eyes open) of one mesh measured at `scale`."""
    geometry = face_geometry(mesh.points, mesh.eye_contours)
    return mesh.points[PUPILS, :2] / scale, geometry, curves.eyes_open_probability(geometry)  # type: ignore[attr-defined]


def measure(face_count: int) -> list[dict[str, float]]:
    """One record per (face, eye width): errors with and without the iris model."""
    pipeline = face_pipeline()
    curves = pipeline.expression_curves
    labelled = [face for face in load_labels() if "lfw" in face.image and face.labels["eyes_open"] is not None]
    records: list[dict[str, float]] = []
    for face in labelled[:face_count]:
        rgb = np.asarray(Image.open(DATA_DIR / face.image).convert("RGB"))
        found = pipeline.detector.find_faces(rgb)
        overlaps = iou_matrix(face.box[None], found.boxes)[0] if len(found) else np.zeros(0)
        if not len(overlaps) or overlaps.max() < MIN_MATCH_IOU:
            continue
        best = int(np.argmax(overlaps))
        boxes, keypoints = found.boxes[best : best + 1], found.keypoints[best : best + 1]
        full = pipeline.mesh.find_landmarks(rgb, boxes, keypoints, with_iris=True)[0]
        pupils, geometry, _ = reading(full, 1.0, curves)
        inter_pupil = float(np.linalg.norm(pupils[1] - pupils[0]))
        width = eye_width_px(full.points)
        for target in EYE_WIDTHS_PX:
            if target >= width:
                continue
            size = (max(1, round(rgb.shape[1] * target / width)), max(1, round(rgb.shape[0] * target / width)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            scale = small.shape[1] / rgb.shape[1]
            record = {"eye_px": float(target), "open": float(face.labels["eyes_open"] or 0),
                      "yaw": geometry.gaze_yaw_deg, "pitch": geometry.gaze_pitch_deg}
            for iris, name in ((True, "iris"), (False, "mesh")):
                mesh = pipeline.mesh.find_landmarks(small, boxes * scale, keypoints * scale, with_iris=iris)[0]
                small_pupils, small_geometry, eyes_open = reading(mesh, scale, curves)
                record[f"pupil_{name}"] = float(np.linalg.norm(small_pupils - pupils, axis=1).mean()) / inter_pupil
                record[f"yaw_{name}"] = abs(small_geometry.gaze_yaw_deg - geometry.gaze_yaw_deg)
                record[f"pitch_{name}"] = abs(small_geometry.gaze_pitch_deg - geometry.gaze_pitch_deg)
                record[f"open_{name}"] = float((eyes_open >= 0.5) == (record["open"] == 1))
            records.append(record)
    return records


def run(face_count: int = 300) -> list[dict[str, object]]:
    records = measure(face_count)
    if not records:
        raise RuntimeError("no LFW face of bench/labels/face_expressions.csv was found in the data folder")
    # One row for the full-size readings' own spread: the error of always answering the mean gaze.
    full_size = {(r["yaw"], r["pitch"]) for r in records}
    yaws, pitches = np.array([y for y, _ in full_size]), np.array([p for _, p in full_size])
    rows: list[dict[str, object]] = [{
        "eye width px": "full size (reference)", "faces": len(full_size),
        "gaze yaw / pitch err deg, iris": f"mean-answer error {np.abs(yaws - yaws.mean()).mean():.1f} / "
                                          f"{np.abs(pitches - pitches.mean()).mean():.1f}",
    }]
    for width in EYE_WIDTHS_PX:
        at = [r for r in records if r["eye_px"] == width]
        if not at:
            continue

        def mean(key: str, rows_at: list[dict[str, float]] = at) -> float:
            return float(np.mean([r[key] for r in rows_at]))

        rows.append({
            "eye width px": width, "faces": len(at),
            "pupil err / IPD, iris": round(mean("pupil_iris"), 3),
            "pupil err / IPD, mesh": round(mean("pupil_mesh"), 3),
            "gaze yaw / pitch err deg, iris": f"{mean('yaw_iris'):.1f} / {mean('pitch_iris'):.1f}",
            "gaze yaw / pitch err deg, mesh (head pose)": f"{mean('yaw_mesh'):.1f} / {mean('pitch_mesh'):.1f}",
            "EyesOpen acc, iris": round(mean("open_iris"), 3), "EyesOpen acc, mesh": round(mean("open_mesh"), 3),
            "EyesOpen majority": round(max(mean("open"), 1 - mean("open")), 3),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=300)
    rows = run(parser.parse_args().faces)
    print(report.markdown(rows))
    report.save("iris_size", rows)


if __name__ == "__main__":
    main()
