"""Fit the logistic heads behind Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded.

Training data, both read from `../shared/data` (never copied into the repository):
- `bench/labels/face_wear.csv`: faces from LFW, AFW and WIDER labelled by eye for this project
  (eyeglasses, sunglasses, beard, mustache, occluded), with the detector's box and 5 keypoints;
- `ppe/face_mask_detection`: CC0 mask photos; with_mask and mask_weared_incorrect faces count as occluded,
  without_mask as not. Their keypoints come from the face detector run on the photo at twice its size.

Every face is described by `FaceWearEstimator.face_vectors`: the age network's band-pooled texture maps and the
hand-made colour and edge bands. Each head is an L2 logistic regression on standardised features
(scikit-learn, `bench.metrics.logistic_model`). Writes `reko/vision/models/face-wear-heads.npz` (feature
names, standardisation, one weight vector per attribute). Its arrays match the shipped file (fitted by an earlier
NumPy solver) to 3e-6, not bit for bit: the shipped file was kept; replacing it needs its catalogue sha256
updated. Run from the repository root: `.venv/bin/python -m scripts.train_face_wear`.
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

from bench.metrics import logistic_model
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
# Inverse L2 strength on standardised features, per head (scikit-learn's C; an L2 penalty of 10 before).
# bench/face_wear.py chooses C from C_CHOICES by nested grouped cross-validation and reports how often
# each value wins; the shipped heads keep 0.1, which was best or within 0.005 AUC of the best for every head.
C_HEADS = {"eyeglasses": 0.1, "sunglasses": 0.1, "beard": 0.1, "mustache": 0.1, "occluded": 0.1}
C_CHOICES = (0.03, 0.1, 0.3)


@dataclass
class LabelledFace:
    """One face with its 5 keypoints and the attributes known for it (absent = unknown)."""

    image: str  # path relative to the data folder
    keypoints: np.ndarray  # (5, 2) pixels
    labels: dict[str, int]
    group: str  # faces sharing a group (same person or photo) stay in the same fold
    source: str = field(default="labelled")
    sample: str = field(default="all")  # how a labelled face was drawn (bench/labels/LABELLING.md)


def labelled_faces(labels_csv: Path = LABELS_CSV) -> list[LabelledFace]:
    """The hand-labelled faces; the group is the LFW person, or the photo elsewhere."""
    faces = []
    with labels_csv.open(newline="") as stream:
        for row in csv.DictReader(stream):
            points = [float(row[f"{part}_{axis}"]) for part in _KEYPOINT_PARTS for axis in "xy"]
            image = row["image"]
            group = str(Path(image).parent) if image.startswith("faces/lfw/") else image
            labels = {name: int(row[name]) for name in ATTRIBUTES}
            keypoints = np.array(points, np.float32).reshape(5, 2)
            faces.append(LabelledFace(image, keypoints, labels, group, sample=row.get("sample") or "unknown"))
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


def fit_head(features: np.ndarray, labels: np.ndarray, c: float) -> LogisticHead:
    """An L2 logistic regression on standardised features (scikit-learn, intercept unpenalised)."""
    model = logistic_model(c).fit(features, labels)
    scaler, regression = model[0], model[-1]
    return LogisticHead(scaler.mean_.astype(np.float32), scaler.scale_.astype(np.float32),
                        regression.coef_[0].astype(np.float32), float(regression.intercept_[0]))


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
        head = fit_head(features, labels, C_HEADS[name])
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
