"""The 30 Rekognition landmark types: the table against botocore, and their places on a real face."""

from __future__ import annotations

import botocore.session
import numpy as np
import pytest

from reko.operations.faces.landmarks import (
    DEFAULT_LANDMARK_TYPES,
    LANDMARK_TYPES,
    MESH_POINTS_BY_LANDMARK,
    landmark_pixels,
    landmarks_from_mesh,
)
from reko.vision.faces.detector import FaceDetector
from reko.vision.faces.mesh import ALL_POINTS, FaceMesh
from tests.conftest import shared_runtime, test_image


@pytest.fixture(scope="module")
def astronaut() -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, float | str]]]:
    rgb = test_image("astronaut.png")
    faces = FaceDetector(shared_runtime()).find_faces(rgb)
    points = FaceMesh(shared_runtime()).find_landmarks(rgb, faces.boxes, faces.keypoints)[0].points
    height, width = rgb.shape[:2]
    entries = landmarks_from_mesh(points, width, height)
    return rgb, faces.boxes[0], {str(entry["Type"]): entry for entry in entries}


def test_table_covers_exactly_the_service_model_enum() -> None:
    model = botocore.session.get_session().get_service_model("rekognition")
    assert sorted(LANDMARK_TYPES) == sorted(model.shape_for("LandmarkType").enum)
    assert set(DEFAULT_LANDMARK_TYPES) <= set(LANDMARK_TYPES)
    assert all(0 <= i < ALL_POINTS for indices in MESH_POINTS_BY_LANDMARK.values() for i in indices)


def test_astronaut_landmarks_sit_where_a_face_has_them(astronaut) -> None:
    rgb, box, marks = astronaut
    height, width = rgb.shape[:2]
    assert len(marks) == 30
    for entry in marks.values():
        assert set(entry) == {"Type", "X", "Y"}
        px, py = float(entry["X"]) * width, float(entry["Y"]) * height
        assert box[0] - 10 < px < box[2] + 10 and box[1] - 10 < py < box[3] + 10, entry

    def x(name: str) -> float:
        return float(marks[name]["X"])

    def y(name: str) -> float:
        return float(marks[name]["Y"])


    # "left" means the image's left.
    assert x("eyeLeft") < x("eyeRight") and x("mouthLeft") < x("mouthRight")
    assert x("leftEyeLeft") < x("leftEyeRight") < x("rightEyeLeft") < x("rightEyeRight")
    assert x("leftEyeBrowLeft") < x("leftEyeBrowRight") < x("rightEyeBrowLeft") < x("rightEyeBrowRight")
    assert x("upperJawlineLeft") < x("midJawlineLeft") < x("chinBottom") < x("midJawlineRight")
    assert x("midJawlineRight") < x("upperJawlineRight") and x("noseLeft") < x("noseRight")
    # Top to bottom: brows, eyes, nose, mouth, chin.
    assert y("leftEyeBrowUp") < y("leftEyeUp") < y("eyeLeft") < y("leftEyeDown") < y("nose")
    assert y("nose") < y("mouthUp") < y("mouthDown") < y("chinBottom")
    assert max(y(name) for name in marks) == y("chinBottom")
    for eye, pupil in (("eyeLeft", "leftPupil"), ("eyeRight", "rightPupil")):
        assert abs(x(eye) - x(pupil)) * width < 6 and abs(y(eye) - y(pupil)) * height < 6


def test_ratios_are_of_width_and_height_and_may_leave_the_image() -> None:
    points = np.zeros((ALL_POINTS, 3), np.float32)
    points[:, 0], points[:, 1] = 150.0, 25.0  # x beyond a 100 px wide image
    (entry,) = landmarks_from_mesh(points, image_width=100, image_height=50, types=["nose"])
    assert entry == {"Type": "nose", "X": pytest.approx(1.5), "Y": pytest.approx(0.5)}


def test_order_follows_the_request_and_unknown_types_are_refused() -> None:
    points = np.random.default_rng(0).random((ALL_POINTS, 3)).astype(np.float32) * 100
    entries = landmarks_from_mesh(points, 100, 100, types=["mouthRight", "eyeLeft"])
    assert [entry["Type"] for entry in entries] == ["mouthRight", "eyeLeft"]
    assert landmark_pixels(points, []).shape == (0, 2)
    with pytest.raises(ValueError):
        landmark_pixels(points, ["thirdEye"])
