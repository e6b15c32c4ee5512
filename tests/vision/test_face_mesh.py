"""FaceMesh on real photos: the astronaut in tests/images, and AFW faces when the shared data is there."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reko.vision.faces.detector import FaceDetector
from reko.vision.faces.mesh import ALL_POINTS, EYE_CONTOUR_CORNERS, EYE_CONTOUR_POINTS, FaceMesh
from tests.conftest import SHARED_DATA, needs_shared_data, shared_runtime, test_image

AFW_DIR = SHARED_DATA / "faces" / "landmarks_afw"


@pytest.fixture(scope="module")
def astronaut() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rgb = test_image("astronaut.png")
    faces = FaceDetector(shared_runtime()).find_faces(rgb)
    assert len(faces) == 1
    return rgb, faces.boxes, faces.keypoints


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh(shared_runtime())


def test_astronaut_mesh_lies_on_the_face(astronaut, mesh: FaceMesh) -> None:
    rgb, boxes, keypoints = astronaut
    (result,) = mesh.find_landmarks(rgb, boxes, keypoints)
    assert result.points.shape == (ALL_POINTS, 3) and result.points.dtype == np.float32
    assert result.presence > 0.9
    x1, y1, x2, y2 = boxes[0]
    margin = 0.15 * (x2 - x1)
    xy = result.points[:, :2]
    assert np.all(xy[:, 0] > x1 - margin) and np.all(xy[:, 0] < x2 + margin)
    assert np.all(xy[:, 1] > y1 - margin) and np.all(xy[:, 1] < y2 + margin)
    # Irises sit near the detector's eye keypoints, in image order.
    for iris, eye in ((468, 0), (473, 1)):
        assert np.linalg.norm(xy[iris] - keypoints[0, eye]) < 0.1 * (x2 - x1)
    assert xy[468, 0] < xy[473, 0]


def test_iris_can_be_skipped_per_call(astronaut, mesh: FaceMesh) -> None:
    rgb, boxes, keypoints = astronaut
    (with_iris,) = mesh.find_landmarks(rgb, boxes, keypoints)
    (without,) = mesh.find_landmarks(rgb, boxes, keypoints, with_iris=False)
    np.testing.assert_allclose(with_iris.points[:468], without.points[:468])
    np.testing.assert_allclose(without.points[468], (without.points[33] + without.points[133]) / 2, atol=1e-3)


def test_eye_contours_come_with_the_iris_model(astronaut, mesh: FaceMesh) -> None:
    rgb, boxes, keypoints = astronaut
    (with_iris,) = mesh.find_landmarks(rgb, boxes, keypoints)
    (without,) = mesh.find_landmarks(rgb, boxes, keypoints, with_iris=False)
    assert without.eye_contours is None
    contours = with_iris.eye_contours
    assert contours is not None and contours.shape == (2, EYE_CONTOUR_POINTS, 3) and contours.dtype == np.float32
    # Each contour's corners land near the mesh's own corners of the same eye, in image order.
    eye_width = float(np.linalg.norm(with_iris.points[133, :2] - with_iris.points[33, :2]))
    for eye, mesh_corners in ((0, (33, 133)), (1, (263, 362))):
        for corner, mesh_index in zip(EYE_CONTOUR_CORNERS, mesh_corners, strict=True):
            gap = np.linalg.norm(contours[eye, corner, :2] - with_iris.points[mesh_index, :2])
            assert gap < 0.25 * eye_width
    assert contours[0, :, 0].mean() < contours[1, :, 0].mean()


def test_no_faces_gives_no_results(astronaut, mesh: FaceMesh) -> None:
    rgb, _, _ = astronaut
    assert mesh.find_landmarks(rgb, np.zeros((0, 4)), np.zeros((0, 5, 2))) == []


@pytest.mark.parametrize(
    ("image", "boxes", "keypoints"),
    [
        (np.zeros((64, 64), np.uint8), np.zeros((1, 4)), np.zeros((1, 5, 2))),
        (np.zeros((64, 64, 3), np.float32), np.zeros((1, 4)), np.zeros((1, 5, 2))),
        (np.zeros((64, 64, 3), np.uint8), np.zeros((2, 4)), np.zeros((1, 5, 2))),
    ],
)
def test_bad_inputs_are_refused(mesh: FaceMesh, image, boxes, keypoints) -> None:
    with pytest.raises(ValueError):
        mesh.find_landmarks(image, boxes, keypoints)


@needs_shared_data("faces", "landmarks_afw")
@pytest.mark.parametrize("name", ["1130084326_2", "134212_1", "16413031_1"])
def test_afw_five_point_error_is_small(mesh: FaceMesh, name: str) -> None:
    bgr = cv2.imread(str(AFW_DIR / f"{name}.jpg"))
    assert bgr is not None
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    truth = np.loadtxt(AFW_DIR / f"{name}.pts").reshape(68, 2)
    faces = FaceDetector(shared_runtime()).find_faces(rgb)
    centre = truth.mean(axis=0)
    inside = [(b[0] < centre[0] < b[2]) and (b[1] < centre[1] < b[3]) for b in faces.boxes]
    index = int(np.argmax(inside))
    assert inside[index]
    (result,) = mesh.find_landmarks(rgb, faces.boxes[index : index + 1], faces.keypoints[index : index + 1])
    points = result.points[:, :2]
    left_eye = points[[7, 159, 157, 243, 153, 145]].mean(axis=0)
    right_eye = points[[382, 385, 387, 249, 373, 380]].mean(axis=0)
    predicted = np.stack([left_eye, right_eye, points[4], points[61], points[291]])
    expected = np.stack([truth[36:42].mean(0), truth[42:48].mean(0), truth[30], truth[48], truth[54]])
    inter_ocular = np.linalg.norm(truth[36] - truth[45])
    nme = np.linalg.norm(predicted - expected, axis=1).mean() / inter_ocular
    assert nme < 0.08
