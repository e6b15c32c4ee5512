"""Per-face work batched across the faces of one image gives what one face at a time gives."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from reko.vision import catalog
from reko.vision.faces.mesh import split_evenly
from reko.vision.faces.wear_features import faces_wear_features, wear_features
from reko.vision.types import FaceBoxes
from tests.conftest import shared_face_pipeline, shared_runtime


@pytest.mark.parametrize(("bundled", "batched", "side_px"), [
    ("face-mesh", "face-mesh-batched", 192), ("face-mesh-iris", "face-mesh-iris-batched", 64),
])
def test_symbolic_batch_answers_each_crop_as_the_bundled_graph_does(bundled: str, batched: str, side_px: int) -> None:
    runtime = shared_runtime()
    single = ort.InferenceSession(str(runtime.model_path(bundled)), providers=["CPUExecutionProvider"])
    several = runtime.session(batched, 1)
    crops = np.random.default_rng(0).random((3, side_px, side_px, 3), dtype=np.float32)
    name = single.get_inputs()[0].name
    together = several.run(None, {name: crops})
    for index in range(len(crops)):
        alone = single.run(None, {name: crops[index : index + 1]})
        for expected, got in zip(alone, together, strict=True):
            np.testing.assert_allclose(got[index : index + 1], expected, rtol=1e-4, atol=1e-4)


def test_batched_graphs_are_catalogued_from_the_bundled_files() -> None:
    for name in ("face-mesh-batched", "face-mesh-iris-batched"):
        spec = catalog.spec(name)
        assert spec.kind == "prepared" and spec.bundled_source
        assert spec.prepare is not None and spec.prepare.startswith("symbolic_batch")


def test_faces_are_split_into_even_contiguous_chunks() -> None:
    assert [list(chunk) for chunk in split_evenly(list(range(9)), 4)] == [[0, 1], [2, 3], [4, 5, 6], [7, 8]]
    assert [list(chunk) for chunk in split_evenly([1], 4)] == [[1]]
    assert split_evenly([], 4) == []


def test_several_faces_get_the_meshes_each_would_get_alone(
    astronaut_rgb: np.ndarray, astronaut_face: FaceBoxes
) -> None:
    """Batches, chunks and the eye tasks they start must not mix faces up or change a point."""
    mesh = shared_face_pipeline().mesh
    box, keypoints = astronaut_face.boxes[0], astronaut_face.keypoints[0]
    shifts = np.array([[0.0, 0.0], [-30.0, 10.0], [25.0, -20.0], [8.0, 30.0], [-12.0, -25.0]])
    boxes = np.stack([box + np.tile(shift, 2) for shift in shifts])
    points = np.stack([keypoints + shift for shift in shifts])
    together = mesh.find_landmarks(astronaut_rgb, boxes, points, with_iris=True)
    for index in range(len(shifts)):
        (alone,) = mesh.find_landmarks(astronaut_rgb, boxes[index : index + 1], points[index : index + 1], True)
        np.testing.assert_allclose(together[index].points, alone.points, atol=1e-3)
        assert together[index].eye_contours is not None and alone.eye_contours is not None
        np.testing.assert_allclose(together[index].eye_contours, alone.eye_contours, atol=1e-3)
        assert abs(together[index].presence - alone.presence) < 1e-5


def test_wear_features_of_several_faces_equal_one_face_at_a_time(
    astronaut_rgb: np.ndarray, astronaut_face: FaceBoxes
) -> None:
    keypoints = astronaut_face.keypoints[0]
    # the same face, a shifted copy and a rotated copy: three different canvases
    rotation = np.array([[0.96, -0.28], [0.28, 0.96]])
    centre = keypoints.mean(axis=0)
    faces = np.stack([keypoints, keypoints + [12.0, -7.0], (keypoints - centre) @ rotation.T + centre])
    together = faces_wear_features(astronaut_rgb, faces.astype(np.float32))
    for index, points in enumerate(faces.astype(np.float32)):
        np.testing.assert_allclose(together[index], wear_features(astronaut_rgb, points), rtol=1e-5, atol=1e-6)
    assert faces_wear_features(astronaut_rgb, np.zeros((0, 5, 2), np.float32)).shape == (0, together.shape[1])
