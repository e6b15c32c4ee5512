"""Face embeddings: unit vectors, one batch equal to single runs, a face closer to itself than to others."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from reko.vision.faces.embedder import FaceEmbedder, aligned_crop, alignment_points
from tests.conftest import shared_face_pipeline, shared_runtime, test_image


def _astronaut_keypoints(rgb: np.ndarray) -> np.ndarray:
    faces = shared_face_pipeline().detector.find_faces(rgb)
    assert len(faces) == 1
    return faces.keypoints


def test_embeddings_are_unit_rows_and_a_batch_equals_single_runs() -> None:
    rgb = test_image("astronaut.png")
    keypoints = _astronaut_keypoints(rgb)
    embedder = FaceEmbedder(shared_runtime())
    shifted = np.repeat(keypoints, 3, axis=0) + np.array([[[0, 0]], [[2, 1]], [[-1, 2]]])  # three faces
    three = embedder.embed(rgb, shifted)
    assert three.shape == (3, 128)
    np.testing.assert_allclose(np.linalg.norm(three, axis=1), 1, atol=1e-5)
    single = np.vstack([embedder.embed(rgb, points[None]) for points in shifted])
    np.testing.assert_allclose(three, single, atol=1e-5)
    assert embedder.embed(rgb, np.zeros((0, 5, 2))).shape == (0, 128)


def test_a_recompressed_smaller_copy_stays_close_and_another_picture_does_not() -> None:
    """A genuine pair (the same photo, half size, JPEG quality 40) scores far above an impostor (a cat)."""
    rgb = test_image("astronaut.png")
    embedder = FaceEmbedder(shared_runtime())
    original = embedder.embed(rgb, _astronaut_keypoints(rgb))[0]
    small = cv2.resize(rgb, (256, 256), interpolation=cv2.INTER_AREA)
    _, encoded = cv2.imencode(".jpg", small[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 40])
    copy = np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1])
    genuine = float(original @ embedder.embed(copy, _astronaut_keypoints(copy))[0])
    cat = test_image("chelsea.png")
    impostor = float(original @ embedder.embed(cat, _astronaut_keypoints(rgb) * 0.8)[0])
    assert genuine > 0.8
    assert impostor < 0.4


def test_the_crop_puts_the_eyes_where_the_template_wants_them() -> None:
    rgb = np.zeros((200, 200, 3), np.uint8)
    keypoints = np.array([[80, 90], [120, 90], [100, 110], [84, 130], [116, 130]], np.float32)
    for x, y in keypoints.astype(int):
        cv2.circle(rgb, (int(x), int(y)), 2, (255, 255, 255), -1)
    crop = aligned_crop(rgb, keypoints)
    assert crop.shape == (112, 112, 3)
    assert crop[52, 38:74].max() > 0 and crop[5:20, 5:20].max() == 0


def test_mesh_alignment_points_sit_near_the_detector_keypoints() -> None:
    """The mesh's eye centres, nose tip and mouth corners are the detector's 5 points, placed more precisely."""
    rgb = test_image("astronaut.png")
    pipeline = shared_face_pipeline()
    faces = pipeline.detector.find_faces(rgb)
    (mesh,) = pipeline.mesh.find_landmarks(rgb, faces.boxes, faces.keypoints, with_iris=False)
    points = alignment_points(mesh.points)
    assert points.shape == (5, 2) and points.dtype == np.float32
    eye_gap_px = float(np.linalg.norm(faces.keypoints[0, 1] - faces.keypoints[0, 0]))
    assert np.linalg.norm(points - faces.keypoints[0], axis=1).max() < 0.25 * eye_gap_px
    assert points[0, 0] < points[1, 0] and points[3, 0] < points[4, 0]  # image-left first, as the keypoints


def test_alignment_points_refuse_a_non_mesh_and_embed_crops_refuses_a_wrong_size() -> None:
    with pytest.raises(ValueError, match="mesh points"):
        alignment_points(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="crops"):
        FaceEmbedder(shared_runtime()).embed_crops(np.zeros((1, 100, 100, 3), np.uint8))
