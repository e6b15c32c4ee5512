"""Eyeglasses, sunglasses, beard, mustache and occlusion probabilities from the bundled logistic heads."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from reko.vision import catalog
from reko.vision.face_wear import ATTRIBUTES, FaceWear, estimate_wear
from reko.vision.face_wear_features import feature_names, wear_features

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (dev extra) ships the test photo")

REPO_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_DIR / ".." / "shared" / "data"
LABELS_CSV = REPO_DIR / "bench" / "labels" / "face_wear.csv"


@pytest.fixture(scope="module")
def astronaut() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-image's astronaut photo (a woman, no glasses, no cover), its face box and 5 keypoints."""
    rgb = skimage_data.astronaut()
    detector = cv2.FaceDetectorYN.create(str(catalog.verify(catalog.spec("face-detector"))), "", (512, 512))
    _, rows = detector.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert rows is not None and len(rows) == 1
    boxes = rows[:, :4].copy()
    boxes[:, 2:] += boxes[:, :2]
    return rgb, boxes, rows[:, 4:14].reshape(-1, 5, 2)


def test_features_match_their_names(astronaut: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    rgb, _, keypoints = astronaut
    features = wear_features(rgb, keypoints[0])
    assert features.shape == (len(feature_names()),)
    assert np.isfinite(features).all()


def test_astronaut_wears_nothing(astronaut: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    rgb, boxes, keypoints = astronaut
    (wear,) = estimate_wear(rgb, boxes, keypoints)
    for name in ATTRIBUTES:
        assert getattr(wear, name) < 0.5, wear


def test_dark_lenses_painted_over_the_eyes_read_as_sunglasses(
    astronaut: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    rgb, boxes, keypoints = astronaut
    painted = rgb.copy()
    for x, y in keypoints[0, :2]:
        cv2.ellipse(painted, (int(x), int(y)), (13, 9), 0, 0, 360, (15, 15, 20), -1)
    (before,) = estimate_wear(rgb, boxes, keypoints)
    (after,) = estimate_wear(painted, boxes, keypoints)
    assert after.sunglasses > 0.5 > before.sunglasses


def test_a_pale_mask_over_the_lower_face_reads_as_occluded(
    astronaut: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    rgb, boxes, keypoints = astronaut
    (left_x, left_y), (right_x, _), nose = keypoints[0, 3], keypoints[0, 4], keypoints[0, 2]
    corners = [
        [left_x - 18, nose[1]],
        [right_x + 18, nose[1]],
        [right_x + 12, left_y + 35],
        [left_x - 12, left_y + 35],
    ]
    masked = rgb.copy()
    cv2.fillPoly(masked, [np.array(corners, np.int32)], (200, 220, 235))
    (wear,) = estimate_wear(masked, boxes, keypoints)
    assert wear.occluded > 0.9


def test_no_faces_and_bad_inputs() -> None:
    rgb = np.zeros((64, 64, 3), np.uint8)
    assert estimate_wear(rgb, np.zeros((0, 4)), np.zeros((0, 5, 2))) == []
    with pytest.raises(ValueError):
        estimate_wear(rgb, np.zeros((1, 4)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError):
        estimate_wear(rgb.astype(np.float32), np.zeros((0, 4)), np.zeros((0, 5, 2)))
    with pytest.raises(ValueError):
        FaceWear(eyeglasses=1.5, sunglasses=0.0, beard=0.0, mustache=0.0, occluded=0.0)


@pytest.mark.data
@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"evaluation data not found at {DATA_DIR}")
def test_shipped_heads_separate_the_labelled_faces() -> None:
    """A consistency check of file, features and labels (training faces: not a held-out score)."""
    with LABELS_CSV.open(newline="") as stream:
        rows = list(csv.DictReader(stream))[::4]
    parts = ("eye_left", "eye_right", "nose", "mouth_left", "mouth_right")
    predicted: dict[str, list[float]] = {name: [] for name in ATTRIBUTES}
    for row in rows:
        rgb = np.ascontiguousarray(np.asarray(cv2.imread(str(DATA_DIR / row["image"])))[..., ::-1])
        points = np.array([[float(row[f"{part}_{axis}"]) for axis in "xy"] for part in parts], np.float32)
        (wear,) = estimate_wear(rgb, np.zeros((1, 4)), points[None])
        for name in ATTRIBUTES:
            predicted[name].append(getattr(wear, name))
    for name in ("eyeglasses", "sunglasses", "beard", "mustache"):
        labels = np.array([int(row[name]) for row in rows])
        accuracy = ((np.array(predicted[name]) >= 0.5) == (labels == 1)).mean()
        assert accuracy >= 0.85, (name, accuracy)
