"""Head pose and face geometry: plausible values on a real face, exact responses to known rotations."""

from __future__ import annotations

import numpy as np
import pytest

from reko.vision.faces.detector import FaceDetector
from reko.vision.faces.head_pose import face_geometry, head_pose
from reko.vision.faces.mesh import EYE_CONTOUR_LOWER_LID, EYE_CONTOUR_UPPER_LID, FaceMesh, FaceMeshResult
from tests.conftest import shared_runtime, test_image


@pytest.fixture(scope="module")
def astronaut_points() -> np.ndarray:
    rgb = test_image("astronaut.png")
    faces = FaceDetector(shared_runtime()).find_faces(rgb)
    return FaceMesh(shared_runtime()).find_landmarks(rgb, faces.boxes, faces.keypoints)[0].points


@pytest.fixture(scope="module")
def astronaut_mesh() -> FaceMeshResult:
    rgb = test_image("astronaut.png")
    faces = FaceDetector(shared_runtime()).find_faces(rgb)
    return FaceMesh(shared_runtime()).find_landmarks(rgb, faces.boxes, faces.keypoints)[0]


@pytest.fixture(scope="module")
def mirrored_astronaut_points() -> np.ndarray:
    rgb = np.ascontiguousarray(test_image("astronaut.png")[:, ::-1])
    faces = FaceDetector(shared_runtime()).find_faces(rgb)
    return FaceMesh(shared_runtime()).find_landmarks(rgb, faces.boxes, faces.keypoints)[0].points


def _rotated(points: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    centre = points.mean(axis=0)
    return ((points - centre) @ rotation.T + centre).astype(np.float32)


def _about_y(degrees: float) -> np.ndarray:
    """Turns a face towards the image's right for positive angles (x right, y down, z away)."""
    a = np.radians(degrees)
    return np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])


def _about_x(degrees: float) -> np.ndarray:
    """Tilts a face's chin up for positive angles: the forehead (y < 0) moves away (z > 0)."""
    a = np.radians(degrees)
    return np.array([[1, 0, 0], [0, np.cos(a), np.sin(a)], [0, -np.sin(a), np.cos(a)]])


def _about_z(degrees: float) -> np.ndarray:
    """Turns a face clockwise in the image for positive angles."""
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def test_astronaut_pose_and_geometry_are_plausible(astronaut_points: np.ndarray) -> None:
    geometry = face_geometry(astronaut_points)
    assert abs(geometry.pose.yaw_deg) < 30
    assert abs(geometry.pose.pitch_deg) < 25
    assert abs(geometry.pose.roll_deg) < 15
    assert abs(geometry.gaze_yaw_deg) < 45 and abs(geometry.gaze_pitch_deg) < 45
    assert 0.15 < geometry.eye_openness_image_left < 0.5
    assert 0.15 < geometry.eye_openness_image_right < 0.5
    assert 0.0 <= geometry.mouth_openness < 0.5
    assert 0.3 < geometry.mouth_width_ratio < 1.2
    assert geometry.smile_corner_raise > 0  # she smiles


def test_lid_gaps_need_the_eye_contours(astronaut_mesh: FaceMeshResult) -> None:
    without = face_geometry(astronaut_mesh.points)
    assert without.lid_gap_image_left is None and without.lid_gap_image_right is None
    geometry = face_geometry(astronaut_mesh.points, astronaut_mesh.eye_contours)
    assert geometry.lid_gap_image_left is not None and geometry.lid_gap_image_right is not None
    # Her eyes are open: labelled open eyes read 0.13-0.3, closed ones about 0.1 and below.
    assert 0.12 < geometry.lid_gap_image_left < 0.4
    assert 0.12 < geometry.lid_gap_image_right < 0.4


def test_shut_lids_read_no_gap(astronaut_mesh: FaceMeshResult) -> None:
    contours = np.array(astronaut_mesh.eye_contours, copy=True)
    # Move each upper-lid point onto its lower-lid partner: a shut eye.
    contours[:, list(EYE_CONTOUR_UPPER_LID)] = contours[:, list(EYE_CONTOUR_LOWER_LID)]
    geometry = face_geometry(astronaut_mesh.points, contours)
    assert geometry.lid_gap_image_left == pytest.approx(0.0, abs=1e-6)
    assert geometry.lid_gap_image_right == pytest.approx(0.0, abs=1e-6)


def test_bad_eye_contours_are_refused(astronaut_mesh: FaceMeshResult) -> None:
    with pytest.raises(ValueError):
        face_geometry(astronaut_mesh.points, np.zeros((1, 71, 3), np.float32))


def test_mirroring_flips_yaw_and_roll(
    astronaut_points: np.ndarray, mirrored_astronaut_points: np.ndarray
) -> None:
    pose, mirrored = head_pose(astronaut_points), head_pose(mirrored_astronaut_points)
    assert mirrored.yaw_deg == pytest.approx(-pose.yaw_deg, abs=4)
    assert mirrored.roll_deg == pytest.approx(-pose.roll_deg, abs=3)
    assert mirrored.pitch_deg == pytest.approx(pose.pitch_deg, abs=4)
    # The iris model is not exactly mirror-symmetric: gaze agrees within a few degrees only.
    gaze, mirrored_gaze = face_geometry(astronaut_points), face_geometry(mirrored_astronaut_points)
    assert mirrored_gaze.gaze_yaw_deg == pytest.approx(-gaze.gaze_yaw_deg, abs=8)


@pytest.mark.parametrize(
    ("rotation", "field", "delta"),
    [
        (_about_y(20), "yaw_deg", 20),
        (_about_y(-15), "yaw_deg", -15),
        (_about_x(15), "pitch_deg", 15),
        (_about_x(-10), "pitch_deg", -10),
        (_about_z(12), "roll_deg", 12),
        (_about_z(-8), "roll_deg", -8),
    ],
)
def test_known_rotations_are_read_back(
    astronaut_points: np.ndarray, rotation: np.ndarray, field: str, delta: float
) -> None:
    before = getattr(head_pose(astronaut_points), field)
    after = getattr(head_pose(_rotated(astronaut_points, rotation)), field)
    assert after - before == pytest.approx(delta, abs=2.5)


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError):
        head_pose(np.zeros((468, 3)))
