"""FaceDetector on real photos: the committed astronaut, cat and coffee cup, then images from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reko.vision.boxes import iou_matrix
from reko.vision.faces.detector import FaceDetector, _image_ordered, _non_maximum_suppression
from reko.vision.types import FaceBoxes
from tests.conftest import SHARED_DATA, needs_shared_data, shared_runtime, test_image

# The astronaut's face, drawn by hand on tests/images/astronaut.png (512x512).
ASTRONAUT_FACE_XYXY = np.array([180.0, 65.0, 265.0, 175.0], np.float32)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(shared_runtime())


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return test_image("astronaut.png")


def test_astronaut_has_one_face_with_ordered_keypoints(detector: FaceDetector, astronaut: np.ndarray) -> None:
    faces = detector.find_faces(astronaut)
    assert len(faces) == 1
    assert iou_matrix(faces.boxes, ASTRONAUT_FACE_XYXY[None])[0, 0] > 0.6
    assert detector.score_threshold <= faces.scores[0] <= 1
    left_eye, right_eye, nose, left_mouth, right_mouth = faces.keypoints[0]
    assert left_eye[0] < right_eye[0] and left_mouth[0] < right_mouth[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(left_mouth[1], right_mouth[1])
    x1, y1, x2, y2 = faces.boxes[0]
    assert np.all((faces.keypoints[0] >= [x1, y1]) & (faces.keypoints[0] <= [x2, y2]))


@pytest.mark.parametrize("scale", [0.5, 2.5])
def test_boxes_come_back_in_the_input_pixels(
    detector: FaceDetector, astronaut: np.ndarray, scale: float
) -> None:
    """A smaller image, and a large canvas the first pass must shrink, both map back to input pixels."""
    import cv2

    resized = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((resized.shape[0] + 200, resized.shape[1] + 300, 3), 128, np.uint8)
    canvas[150 : 150 + resized.shape[0], 250 : 250 + resized.shape[1]] = resized
    faces = detector.find_faces(canvas)
    expected = ASTRONAUT_FACE_XYXY * scale + np.array([250, 150, 250, 150], np.float32)
    assert len(faces) == 1
    assert iou_matrix(faces.boxes, expected[None])[0, 0] > 0.6


def test_a_blank_image_has_no_face(detector: FaceDetector) -> None:
    assert len(detector.find_faces(np.full((480, 640, 3), 90, np.uint8))) == 0


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png"])
def test_a_coffee_cup_and_a_cats_face_are_not_human_faces(detector: FaceDetector, name: str) -> None:
    assert len(detector.find_faces(test_image(name))) == 0


@pytest.mark.parametrize(
    "image",
    [np.zeros((64, 64), np.uint8), np.zeros((64, 64, 3), np.float32), np.zeros((64, 64, 4), np.uint8)],
)
def test_rejects_what_is_not_an_rgb_uint8_image(detector: FaceDetector, image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB"):
        detector.find_faces(image)


def test_keypoint_pairs_are_put_in_image_order() -> None:
    upside_down = np.array([[[60, 50], [40, 50], [50, 40], [58, 30], [42, 30]]], np.float32)
    ordered = _image_ordered(upside_down)
    np.testing.assert_array_equal(ordered[0, :, 0], [40, 60, 50, 42, 58])
    np.testing.assert_array_equal(ordered[0, 2], upside_down[0, 2])


def test_non_maximum_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    faces = FaceBoxes(
        boxes=np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32),
        scores=np.array([0.8, 0.9, 0.7], np.float32),
        keypoints=np.zeros((3, 5, 2), np.float32),
    )
    kept = _non_maximum_suppression(faces, iou_threshold=0.3)
    np.testing.assert_array_equal(kept.scores, np.array([0.9, 0.7], np.float32))


def _read_rgb(path: Path) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return np.ascontiguousarray(bgr[:, :, ::-1])


@pytest.mark.parametrize(
    ("image", "truth"),
    [
        # WIDER val, squashed to 416x416 by its uploader; GT from gt_rescaled_to_416x416.txt (x y w h).
        pytest.param(
            "faces/wider_val_200_416/images/0_Parade_Parade_0_194.jpg",
            [[45.09, 127.38, 49.56, 38.06], [84.91, 104.0, 28.44, 30.87], [149.5, 75.53, 36.16, 39.86],
             [225.47, 84.52, 36.16, 29.97], [287.22, 75.53, 37.38, 39.86]],
            marks=needs_shared_data("faces", "wider_val_200_416"),
        ),
        # Face-mask set, Pascal VOC maksssksksss0.xml (xmin ymin xmax ymax turned into x y w h).
        pytest.param(
            "ppe/face_mask_detection/images/maksssksksss0.png",
            [[79, 105, 30, 37], [185, 100, 41, 44], [325, 90, 35, 51]],
            marks=needs_shared_data("ppe", "face_mask_detection"),
        ),
    ],
)
def test_finds_the_annotated_faces(detector: FaceDetector, image: str, truth: list[list[float]]) -> None:
    """A regression guard on two photos of the sets the score threshold was chosen on (WIDER-200, mask-50)."""
    faces = detector.find_faces(_read_rgb(SHARED_DATA / image))
    xywh = np.array(truth, np.float32)
    expected = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    assert abs(len(faces) - len(expected)) <= 1
    assert np.all(iou_matrix(expected, faces.boxes).max(axis=1) >= 0.5)
