"""Fit everything DetectProtectiveEquipment learns from data: `reko/vision/models/ppe-covers.npz`.

On the training half of the CC0 PPE sets (`bench/ppe_sets.py`: even positions in file order, grouped by image),
with Reko's own detectors run on each photo as the server runs them:
- where a head lies relative to a face box and to the pose's head reference (median of the ground-truth heads);
- the confidence curves: P(a located head matches a ground-truth head) from the face score or the pose's head
  score, P(a found face matches a ground-truth face) from the face score (logistic on the logit);
- the head crops HEAD_COVER (helmet vs head) is fitted on, by `scripts/finetune_head_cover.py` (`collect`): the
  ground-truth head crops and the heads Reko placed or its head detector found (P >= 0.5) and matched to them, plus
  the heads Reko placed from faces or detected on the face-mask training half as bare (its street photos hold no
  hard hat: checked by eye);
- FACE_COVER (with_mask vs without_mask): an L2 logistic regression on the face-wear vectors of the faces found
  and matched to ground truth (the vector needs the detector's keypoints);
- each L2 strength is chosen by 5-fold cross-validation grouped by image inside the training half (log-loss),
  and each head's output is calibrated by a logistic curve fitted on its out-of-fold predictions there.

Run from the repository root: `.venv/bin/python -m scripts.train_ppe_covers [DATA_DIR]`. Prints the choices and
the sha256 of the written file (catalogue entry `ppe-covers`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline

from bench.datasets import DATA_DIR, LabelledImage
from bench.metrics import grouped_folds, logistic_model, out_of_fold
from bench.models import bench_runtime, face_pipeline
from bench.ppe_sets import PART_MATCH_IOU, halves, hard_hat_images, mask_images
from reko.pipelines.labels import LabelPipeline
from reko.pipelines.ppe import People, PeopleFinder, locate
from reko.vision.boxes import iou_matrix
from reko.vision.labels.confidence import LogisticCurve
from reko.vision.ppe.covers import HEAD_CROP_MARGIN, crop
from reko.vision.ppe.heads import HeadDetector
from reko.vision.ppe.parts import Placement, fit_placement
from reko.vision.ppe.pose import BodyPose, head_references

OUTPUT = Path(__file__).resolve().parents[1] / "reko" / "vision" / "models" / "ppe-covers.npz"
C_CHOICES = {"face_cover": (0.1, 0.3, 1.0, 3.0)}
FACE_MATCH_IOU = 0.5  # faces are the face detector's own boxes: the VOC rule
CURVE_C = 1e4  # a 2-parameter curve: practically unpenalised


@dataclass
class Samples:
    """Inputs (crops, or feature rows) and labels for one cover head, grouped by image."""

    inputs: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def add(self, value: np.ndarray, label: int, group: str) -> None:
        self.inputs.append(value)
        self.labels.append(label)
        self.groups.append(group)


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise FileNotFoundError(path)
    return np.ascontiguousarray(bgr[..., ::-1])


def face_head(face: np.ndarray, truth: np.ndarray) -> int:
    """Index of the smallest ground-truth head holding the centre of a face box (or a pose reference), -1 for none."""
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    inside = (truth[:, 0] <= cx) & (truth[:, 2] >= cx) & (truth[:, 1] <= cy) & (truth[:, 3] >= cy)
    if not inside.any():
        return -1
    areas = (truth[:, 2] - truth[:, 0]) * (truth[:, 3] - truth[:, 1])
    return int(np.flatnonzero(inside)[np.argmin(areas[inside])])


def fit_curve(scores: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(slope, intercept) of P(right) = sigmoid(slope * logit(score) + intercept)."""
    clipped = np.clip(scores, 1e-6, 1 - 1e-6)
    logits = np.log(clipped / (1 - clipped))[:, None]
    model = LogisticRegression(C=CURVE_C).fit(logits, right)
    return np.array([model.coef_[0, 0], model.intercept_[0]], np.float32)


@dataclass(frozen=True)
class FoldScores:
    """A cover head's grouped out-of-fold predictions at one C, calibrated by a curve fitted on them."""

    raw: np.ndarray  # out-of-fold P(covered)
    curve: np.ndarray  # (slope, intercept), `fit_curve`
    log_loss: float  # of the calibrated predictions
    accuracy: float  # calibrated, at 0.5
    uncovered_recall: float  # calibrated < 0.5 among the uncovered


def fold_scores(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, c: float) -> FoldScores:
    """What a C scores out of fold, after calibration: what the trainers choose C (and crops) by."""
    return calibrated_scores(out_of_fold(features, labels, folds, c), labels)


def calibrated_scores(raw: np.ndarray, labels: np.ndarray) -> FoldScores:
    """Out-of-fold P(covered) scored after the calibration curve fitted on them (any head's, fine-tuned ones too)."""
    curve = fit_curve(raw, labels)
    calibrated = LogisticCurve(*map(float, curve)).probability(raw)
    uncovered = float(((calibrated < 0.5) & (labels == 0)).sum() / max(1, (labels == 0).sum()))
    return FoldScores(raw, curve, float(log_loss(labels, calibrated)), float(((calibrated >= 0.5) == labels).mean()),
                      uncovered)


def best_match(box: np.ndarray, truth: np.ndarray, threshold: float) -> int:
    if not len(truth):
        return -1
    overlaps = iou_matrix(box[None], truth)[0]
    return int(overlaps.argmax()) if overlaps.max() >= threshold else -1


Found = tuple[LabelledImage, np.ndarray, People, tuple[np.ndarray, np.ndarray]]


def find_all(finder: PeopleFinder, pose: BodyPose, images: list[LabelledImage]) -> list[Found]:
    """Each image with its persons and faces and the pose's head references of the persons."""
    found = []
    for image in images:
        rgb = read_rgb(image.path)
        people = finder.find(rgb)
        found.append((image, rgb, people, head_references(pose.find_points(rgb, people.boxes))))
    return found


def head_placements(found: list[Found]) -> dict[str, Placement]:
    pairs: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {"face": ([], []), "pose": ([], [])}
    for image, _, people, (references, _) in found:
        for name, boxes in (("face", people.faces.boxes), ("pose", references)):
            for box in boxes:
                index = face_head(box, image.boxes)
                if index >= 0:
                    pairs[name][0].append(box)
                    pairs[name][1].append(image.boxes[index])
    placements = {}
    for name, (references, heads) in pairs.items():
        placements[name] = fit_placement(np.array(references), np.array(heads))
        print(f"head from {name}: {len(references)} pairs -> {placements[name]}")
    return placements


def reported_heads(detector: HeadDetector, rgb: np.ndarray) -> np.ndarray:
    """(n, 4) xyxy boxes the head detector reports (P >= 0.5), as the pipeline lists them."""
    heads = detector.find_heads(rgb)
    return heads.boxes[heads.confidence >= 0.5]


def choose_and_fit(name: str, features: np.ndarray, samples: Samples) -> tuple[Pipeline, np.ndarray]:
    """The head at the L2 strength whose calibrated out-of-fold log-loss is lowest, and its calibration curve.

    A logistic head on few, sparse features (the hat histogram) is over-confident: its probabilities go
    through a logistic curve on their logit fitted on the out-of-fold predictions, so they are measured.
    """
    labels = np.array(samples.labels)
    folds = grouped_folds(labels, samples.groups)
    best: tuple[float, float, np.ndarray] | None = None
    for c in C_CHOICES[name]:
        scores = fold_scores(features, labels, folds, c)
        print(f"{name}: C={c}: grouped 5-fold on the training half: raw log-loss {log_loss(labels, scores.raw):.4f}, "
              f"calibrated {scores.log_loss:.4f}, accuracy {scores.accuracy:.4f}, "
              f"uncovered recall {scores.uncovered_recall:.4f}")
        if best is None or scores.log_loss < best[1]:
            best = (c, scores.log_loss, scores.curve)
    assert best is not None
    print(f"{name}: {len(labels)} samples ({int(labels.sum())} covered), C={best[0]}, curve {best[2]}")
    return logistic_model(best[0]).fit(features, labels), best[2]


@dataclass
class Collected:
    """What Reko's own detectors found on the training half, as the trainers need it."""

    arrays: dict[str, np.ndarray]  # head placements and the located-part curves, ready for the file
    head_samples: Samples  # head crops (HEAD_CROP_MARGIN), 1 = hard hat: scripts/finetune_head_cover.py fits on them
    face_samples: Samples  # face-wear vectors, 1 = mask


def collect(data_dir: Path) -> Collected:
    """Run the person, face, pose and head detectors on the training half and gather every trainer's samples."""
    runtime = bench_runtime()
    labels = LabelPipeline(runtime)
    faces = face_pipeline()
    finder = PeopleFinder(runtime, labels.detector, faces.detector, labels.confidence)
    pose = BodyPose(runtime)
    head_detector = HeadDetector(runtime)
    hard_hats = find_all(finder, pose, halves(hard_hat_images(data_dir))[0])
    masks = find_all(finder, pose, halves(mask_images(data_dir))[0])
    placements = head_placements(hard_hats)
    arrays: dict[str, np.ndarray] = {f"placement.{k}": v.to_array() for k, v in placements.items()}

    head_samples, face_samples = Samples(), Samples()
    curve_data: dict[str, tuple[list[float], list[int]]] = {k: ([], []) for k in ("face", "head_from_face",
                                                                                    "head_from_pose")}
    for image, rgb, people, pose_heads in hard_hats:
        group = image.path.name
        for box, label in zip(image.boxes, image.labels, strict=True):
            head_samples.add(crop(rgb, box, HEAD_CROP_MARGIN), int(label == "helmet"), group)
        found = locate(people, placements, pose_heads, rgb.shape[1], rgb.shape[0])
        for head, face, score in zip(found.heads, found.from_face, found.head_scores, strict=True):
            index = best_match(head, image.boxes, PART_MATCH_IOU)
            curve = curve_data["head_from_face" if face else "head_from_pose"]
            curve[0].append(float(score))
            curve[1].append(int(index >= 0))
            if index >= 0:
                head_samples.add(crop(rgb, head, HEAD_CROP_MARGIN), int(image.labels[index] == "helmet"), group)
        for head in reported_heads(head_detector, rgb):
            index = best_match(head, image.boxes, PART_MATCH_IOU)
            if index >= 0:
                head_samples.add(crop(rgb, head, HEAD_CROP_MARGIN), int(image.labels[index] == "helmet"), group)
    for image, rgb, people, pose_heads in masks:
        group = image.path.name
        found = locate(people, placements, pose_heads, rgb.shape[1], rgb.shape[0])
        for head in [*found.heads[found.from_face], *reported_heads(head_detector, rgb)]:
            head_samples.add(crop(rgb, head, HEAD_CROP_MARGIN), 0, group)
        vectors = faces.wear.face_vectors(rgb, people.faces.keypoints)
        for face, score, vector in zip(people.faces.boxes, people.faces.scores, vectors, strict=True):
            index = best_match(face, image.boxes, FACE_MATCH_IOU)
            curve_data["face"][0].append(float(score))
            curve_data["face"][1].append(int(index >= 0))
            if index >= 0:
                face_samples.add(vector, int(image.labels[index] == "with_mask"), group)
    for name, (scores, right) in curve_data.items():
        arrays[f"curve.{name}"] = fit_curve(np.array(scores), np.array(right))
        print(f"curve {name}: {len(right)} located, {sum(right)} right -> {arrays[f'curve.{name}']}")
    return Collected(arrays, head_samples, face_samples)


def main(argv: Sequence[str]) -> None:
    collected = collect(Path(argv[0]) if argv else DATA_DIR)
    arrays, samples = collected.arrays, collected.face_samples
    model, curve = choose_and_fit("face_cover", np.stack(samples.inputs), samples)
    scaler, regression = model[0], model[-1]
    arrays["curve.face_cover"] = curve
    arrays["face_cover.mean"] = scaler.mean_.astype(np.float32)
    arrays["face_cover.scale"] = scaler.scale_.astype(np.float32)
    arrays["face_cover.weights"] = regression.coef_[0].astype(np.float32)
    arrays["face_cover.bias"] = np.array([regression.intercept_[0]], np.float32)
    arrays["face_cover.samples"] = np.array([len(samples.labels), sum(samples.labels)], np.int64)
    np.savez(OUTPUT, **arrays)  # type: ignore[arg-type]
    print(f"wrote {OUTPUT} sha256 {hashlib.sha256(OUTPUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
