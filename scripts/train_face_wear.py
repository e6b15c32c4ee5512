"""Fit the logistic heads behind Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded.

Training data, both read from `../shared/data` (never copied into the repository):
- `bench/labels/face_wear.csv`: faces from LFW, AFW and WIDER labelled by eye for this project
  (eyeglasses, sunglasses, beard, mustache, occluded), with the detector's box and 5 keypoints;
- `ppe/face_mask_detection`: CC0 mask photos; with_mask and mask_weared_incorrect faces count as occluded,
  without_mask as not. Their keypoints come from the face detector run on the photo at twice its size.

Every face is described by `FaceWearEstimator.face_vectors`: the age network's band-pooled texture maps and the
hand-made colour and edge bands. Writes `reko/vision/models/face-wear-heads.npz` (feature names,
standardisation, one weight vector per attribute). Run from the repository root:
`.venv/bin/python -m scripts.train_face_wear`.
"""

from __future__ import annotations

import csv
import hashlib
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench.models import face_pipeline
from reko.vision import catalog
from reko.vision.boxes import iou_matrix
from reko.vision.faces.wear import ATTRIBUTES, face_vector_names

REPO_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_DIR / ".." / "shared" / "data"
LABELS_CSV = REPO_DIR / "bench" / "labels" / "face_wear.csv"
HEADS_FILE = REPO_DIR / "reko" / "vision" / "models" / "face-wear-heads.npz"
MASK_DIR = Path("ppe") / "face_mask_detection"
MASK_UPSCALE = 2.0  # the detector finds far more of the set's small faces at twice the size
MASK_MATCH_IOU = 0.3
# L2 penalty on standardised features, per head; chosen by grouped cross-validation in bench/face_wear.py
# (3 to 100 tried: 10 is best or within 0.005 AUC of the best for every head).
L2_PENALTY = {"eyeglasses": 10.0, "sunglasses": 10.0, "beard": 10.0, "mustache": 10.0, "occluded": 10.0}


@dataclass
class LabelledFace:
    """One face with its 5 keypoints and the attributes known for it (absent = unknown)."""

    image: str  # path relative to the data folder
    keypoints: np.ndarray  # (5, 2) pixels
    labels: dict[str, int]
    group: str  # faces sharing a group (same person or photo) stay in the same fold
    source: str = field(default="labelled")


def labelled_faces(labels_csv: Path = LABELS_CSV) -> list[LabelledFace]:
    """The hand-labelled faces; the group is the LFW person, or the photo elsewhere."""
    faces = []
    with labels_csv.open(newline="") as stream:
        for row in csv.DictReader(stream):
            points = [float(row[f"{part}_{axis}"]) for part in _KEYPOINT_PARTS for axis in "xy"]
            image = row["image"]
            group = str(Path(image).parent) if image.startswith("faces/lfw/") else image
            labels = {name: int(row[name]) for name in ATTRIBUTES}
            faces.append(LabelledFace(image, np.array(points, np.float32).reshape(5, 2), labels, group))
    return faces


_KEYPOINT_PARTS = ("eye_left", "eye_right", "nose", "mouth_left", "mouth_right")


def mask_set_faces(data_dir: Path) -> tuple[list[LabelledFace], int]:
    """Mask-set faces the detector finds (matched to a ground-truth box), and how many it missed."""
    detector = _face_detector()
    faces: list[LabelledFace] = []
    missed = 0
    for annotation in sorted((data_dir / MASK_DIR / "annotations").glob("*.xml")):
        image = MASK_DIR / "images" / f"{annotation.stem}.png"
        truth = _mask_boxes(annotation)
        found = _detect(detector, _read_rgb(data_dir / image)[..., ::-1].copy())
        for box, name in truth:
            overlaps = iou_matrix(box[None], found[:, :4])[0] if len(found) else np.zeros(0)
            if not len(overlaps) or overlaps.max() < MASK_MATCH_IOU:
                missed += 1
                continue
            keypoints = found[int(overlaps.argmax()), 4:14].reshape(5, 2)
            occluded = int(name != "without_mask")
            faces.append(LabelledFace(str(image), keypoints, {"occluded": occluded}, str(image), "mask"))
    return faces, missed


def _face_detector() -> cv2.FaceDetectorYN:
    # OpenCV reads the catalogued YuNet file as it ships (block-quantised int8), so training does not
    # depend on the ONNX Runtime preparation step.
    path = catalog.verify(catalog.spec("face-detector"))
    return cv2.FaceDetectorYN.create(str(path), "", (320, 320), 0.6)


def _detect(detector: cv2.FaceDetectorYN, bgr: np.ndarray) -> np.ndarray:
    """(n, 14) rows: xyxy box then 5 keypoints, in pixels of the original image."""
    big = cv2.resize(bgr, None, fx=MASK_UPSCALE, fy=MASK_UPSCALE, interpolation=cv2.INTER_LINEAR)
    detector.setInputSize((big.shape[1], big.shape[0]))
    _, rows = detector.detect(big)
    if rows is None:
        return np.zeros((0, 14), np.float32)
    found = np.asarray(rows[:, :14], np.float32) / MASK_UPSCALE
    found[:, 2:4] += found[:, 0:2]
    return found


def _mask_boxes(annotation: Path) -> list[tuple[np.ndarray, str]]:
    root = ElementTree.parse(annotation).getroot()
    boxes = []
    for item in root.iter("object"):
        corners = [float(item.findtext(f"bndbox/{key}", "0")) for key in ("xmin", "ymin", "xmax", "ymax")]
        boxes.append((np.array(corners, np.float32), item.findtext("name", "")))
    return boxes


def feature_matrix(faces: Sequence[LabelledFace], data_dir: Path) -> np.ndarray:
    """(n, d) face vectors as the runtime computes them, reading each photo once per run of its faces."""
    rows: list[np.ndarray] = []
    cache: dict[str, np.ndarray] = {}
    for face in faces:
        if face.image not in cache:
            cache = {face.image: _read_rgb(data_dir / face.image)}
        rows.append(face_pipeline().wear.face_vectors(cache[face.image], face.keypoints[None])[0])
    return np.stack(rows)


def _read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return np.ascontiguousarray(bgr[..., ::-1])


@dataclass(frozen=True)
class LogisticHead:
    """p = sigmoid(((x - mean) / scale) @ weights + bias)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        logits = ((features - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-logits))


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2_penalty: float) -> LogisticHead:
    """L2-penalised logistic regression by Newton's method on standardised features (bias unpenalised)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    y = labels.astype(np.float64)
    penalty = np.full(x.shape[1], l2_penalty)
    penalty[-1] = 0.0
    theta = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        gradient = x.T @ (p - y) + penalty * theta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-7:
            break
    return LogisticHead(mean.astype(np.float32), scale.astype(np.float32), theta[:-1].astype(np.float32),
                        float(theta[-1]))


def training_sets(data_dir: Path) -> dict[str, tuple[list[LabelledFace], np.ndarray, np.ndarray]]:
    """Per attribute: its faces, their feature matrix and 0/1 labels."""
    labelled = labelled_faces()
    masks, _ = mask_set_faces(data_dir)
    labelled_features = feature_matrix(labelled, data_dir)
    mask_features = feature_matrix(masks, data_dir)
    sets = {}
    for name in ATTRIBUTES:
        faces, features = labelled, labelled_features
        if name == "occluded":
            faces, features = labelled + masks, np.vstack([labelled_features, mask_features])
        labels = np.array([face.labels[name] for face in faces], np.int64)
        sets[name] = (faces, features, labels)
    return sets


def main(argv: Sequence[str]) -> None:
    data_dir = Path(argv[0]) if argv else DEFAULT_DATA_DIR
    sets = training_sets(data_dir)
    arrays: dict[str, np.ndarray] = {"feature_names": np.array(face_vector_names())}
    for name, (_, features, labels) in sets.items():
        head = fit_logistic(features, labels, L2_PENALTY[name])
        arrays[f"{name}.mean"] = head.mean
        arrays[f"{name}.scale"] = head.scale
        arrays[f"{name}.weights"] = head.weights
        arrays[f"{name}.bias"] = np.array([head.bias], np.float32)
        arrays[f"{name}.samples"] = np.array([len(labels), int(labels.sum())], np.int64)
    np.savez(HEADS_FILE, **arrays)  # type: ignore[arg-type]
    digest = hashlib.sha256(HEADS_FILE.read_bytes()).hexdigest()
    sys.stdout.write(f"wrote {HEADS_FILE} sha256 {digest}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
