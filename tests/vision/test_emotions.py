"""Expression probabilities from fer's CNN (converted to ONNX), on crops framed from Reko's keypoints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reko.vision.faces.emotions import CROP_PX, EMOTION_NAMES, EmotionClassifier, emotion_crops
from tests.conftest import shared_runtime

# YuNet's box (xyxy) and 5 keypoints on skimage's astronaut() (see test_face_chips.py).
ASTRONAUT_BOXES = np.array([[178.0, 62.6, 268.4, 176.4]], np.float32)
ASTRONAUT_KEYPOINTS = np.array(
    [[[200.1, 101.8], [247.2, 102.6], [220.3, 124.7], [198.9, 143.2], [239.8, 143.9]]], np.float32
)
HAPPY = EMOTION_NAMES.index("happy")


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier(shared_runtime())


def test_bundled_model_is_catalogued_and_intact() -> None:
    path = shared_runtime().model_path("emotion-classifier")
    assert path.is_file() and path.with_suffix(".onnx.md").is_file()


def test_smiling_astronaut_is_happy(astronaut_rgb: np.ndarray, classifier: EmotionClassifier) -> None:
    probabilities = classifier.classify(astronaut_rgb, ASTRONAUT_BOXES, ASTRONAUT_KEYPOINTS)
    assert probabilities.shape == (1, len(EMOTION_NAMES)) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert probabilities[0].argmax() == HAPPY and probabilities[0, HAPPY] > 0.8


def test_tilted_and_box_only_faces_are_still_happy(
    astronaut_rgb: np.ndarray, classifier: EmotionClassifier
) -> None:
    centre = tuple(float(v) for v in ASTRONAUT_KEYPOINTS[0].mean(axis=0))
    rotation = cv2.getRotationMatrix2D(centre, 30.0, 1.0)
    rotated = cv2.warpAffine(astronaut_rgb, rotation, astronaut_rgb.shape[1::-1], flags=cv2.INTER_LINEAR)
    keypoints = (ASTRONAUT_KEYPOINTS @ rotation[:, :2].T + rotation[:, 2]).astype(np.float32)
    assert classifier.classify(rotated, ASTRONAUT_BOXES, keypoints)[0].argmax() == HAPPY
    no_keypoints = np.full_like(ASTRONAUT_KEYPOINTS, np.nan)  # falls back to fer's box framing
    assert classifier.classify(astronaut_rgb, ASTRONAUT_BOXES, no_keypoints)[0].argmax() == HAPPY


def test_crops_are_grey_upright_and_framed_like_fer(astronaut_rgb: np.ndarray) -> None:
    crops = emotion_crops(astronaut_rgb, ASTRONAUT_BOXES, ASTRONAUT_KEYPOINTS)
    assert crops.shape == (1, CROP_PX, CROP_PX) and crops.dtype == np.uint8
    # The face fills the crop: the eyes' row is in the upper half, the mouth's in the lower half.
    rows = crops[0].astype(float)
    assert rows[:, 16:48].std() > 20


def test_no_faces(astronaut_rgb: np.ndarray, classifier: EmotionClassifier) -> None:
    out = classifier.classify(astronaut_rgb, np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32))
    assert out.shape == (0, len(EMOTION_NAMES))
