"""Face Quality: brightness and sharpness in [0, 100], monotone in darkening and blurring."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reko.vision.faces.quality import FaceQuality, assess_quality
from reko.vision.types import FaceBoxes


@pytest.fixture(scope="module")
def astronaut(astronaut_rgb: np.ndarray, astronaut_face: FaceBoxes) -> tuple[np.ndarray, np.ndarray]:
    """The astronaut photo and its one face box (xyxy)."""
    return astronaut_rgb, astronaut_face.boxes


def test_astronaut_face_is_mid_bright_and_sharp(astronaut: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, box = astronaut
    (quality,) = assess_quality(rgb, box)
    assert 40 < quality.brightness < 90
    assert 30 < quality.sharpness <= 100


@pytest.mark.parametrize("sigmas", [(0.0, 1.0, 2.0, 4.0)])
def test_sharpness_falls_as_the_face_blurs(astronaut: tuple[np.ndarray, np.ndarray], sigmas: tuple) -> None:
    rgb, box = astronaut
    scores = [
        assess_quality(cv2.GaussianBlur(rgb, (0, 0), sigma) if sigma else rgb, box)[0].sharpness
        for sigma in sigmas
    ]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False)), scores
    assert scores[-1] < 20


@pytest.mark.parametrize("gains", [(1.0, 0.7, 0.4, 0.1)])
def test_brightness_falls_as_the_face_darkens(astronaut: tuple[np.ndarray, np.ndarray], gains: tuple) -> None:
    rgb, box = astronaut
    scores = [assess_quality((rgb * gain).astype(np.uint8), box)[0].brightness for gain in gains]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False)), scores
    assert scores[0] * 0.1 == pytest.approx(scores[-1], abs=1.0)


@pytest.mark.parametrize(
    ("value", "brightness"), [(0, 0.0), (255, 100.0), (128, 100.0 * 128 / 255)]
)
def test_flat_grey_face_has_its_grey_level_and_no_sharpness(value: int, brightness: float) -> None:
    rgb = np.full((100, 100, 3), value, np.uint8)
    (quality,) = assess_quality(rgb, np.array([[10.0, 10.0, 90.0, 90.0]]))
    assert quality.brightness == pytest.approx(brightness, abs=0.5)
    assert quality.sharpness == pytest.approx(0.0, abs=1e-6)


def test_no_boxes_gives_no_results_and_boxes_off_the_image_score_zero() -> None:
    rgb = np.zeros((50, 50, 3), np.uint8)
    assert assess_quality(rgb, np.zeros((0, 4))) == []
    assert assess_quality(rgb, np.array([[60.0, 60.0, 80.0, 80.0]])) == [FaceQuality(0.0, 0.0)]


@pytest.mark.parametrize(
    ("rgb", "boxes"),
    [(np.zeros((10, 10), np.uint8), np.zeros((0, 4))), (np.zeros((10, 10, 3), np.uint8), np.zeros((2, 3)))],
)
def test_bad_inputs_are_refused(rgb: np.ndarray, boxes: np.ndarray) -> None:
    with pytest.raises(ValueError):
        assess_quality(rgb, boxes)
