"""Eyeglasses, sunglasses, beard, mustache and occlusion probabilities from the bundled logistic heads.

Also covers what the heads read: the age network cut down to its texture maps (`onnx_outputs`) and the
band-pooled features taken from them (`face_features`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from reko.vision import catalog
from reko.vision.faces import chips as face_chips
from reko.vision.faces.age_gender import AGE_CHIP_PX, CHANNEL_MEANS, CHIP_PADDING, PIXEL_SCALE
from reko.vision.faces.features import FaceTextureFeatures, texture_feature_names
from reko.vision.faces.wear import ATTRIBUTES, FaceWear, face_vector_names
from reko.vision.faces.wear_features import feature_names, wear_features
from reko.vision.onnx_outputs import AGE_NETWORK_FEATURE_TENSOR, keep_outputs
from reko.vision.types import FaceBoxes
from tests.conftest import shared_face_pipeline, shared_runtime

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (dev extra) ships the test photo")

REPO_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_DIR / ".." / "shared" / "data"
LABELS_CSV = REPO_DIR / "bench" / "labels" / "face_wear.csv"


@pytest.fixture(scope="module")
def astronaut(astronaut_rgb: np.ndarray, astronaut_face: FaceBoxes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-image's astronaut photo (a woman, no glasses, no cover), its face box and 5 keypoints."""
    return astronaut_rgb, astronaut_face.boxes, astronaut_face.keypoints


def test_features_match_their_names(astronaut: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    rgb, _, keypoints = astronaut
    features = wear_features(rgb, keypoints[0])
    assert features.shape == (len(feature_names()),)
    assert np.isfinite(features).all()


def test_face_vectors_join_texture_and_hand_features(
    astronaut: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    rgb, _, keypoints = astronaut
    vectors = shared_face_pipeline().wear.face_vectors(rgb, keypoints)
    assert vectors.shape == (1, len(face_vector_names()))
    assert face_vector_names() == texture_feature_names() + feature_names()
    texture = FaceTextureFeatures(shared_runtime()).extract(rgb, keypoints)
    np.testing.assert_allclose(vectors[0, : texture.shape[1]], texture[0], rtol=1e-6)
    np.testing.assert_allclose(vectors[0, texture.shape[1] :], wear_features(rgb, keypoints[0]), rtol=1e-6)
    assert (texture >= 0).all() and texture.max() > 0  # ReLU maps that respond to a real face


def test_cut_network_returns_the_full_networks_inner_maps(
    astronaut: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """The prepared copy must compute exactly what the same tensor holds inside the installed network."""
    rgb, _, keypoints = astronaut
    full = onnx.load(str(shared_runtime().model_path("age-estimator")))
    inner = onnx.helper.make_tensor_value_info(AGE_NETWORK_FEATURE_TENSOR, onnx.TensorProto.FLOAT, None)
    full.graph.output.append(inner)
    chips = face_chips.extract_chips(rgb, keypoints, AGE_CHIP_PX, CHIP_PADDING)
    images = np.ascontiguousarray(((chips.astype(np.float32) - CHANNEL_MEANS) * PIXEL_SCALE).transpose(0, 3, 1, 2))
    reference = ort.InferenceSession(full.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = reference.run([AGE_NETWORK_FEATURE_TENSOR], {"images": images})[0]
    cut_model = onnx.load(str(shared_runtime().model_path("face-texture-features")))
    assert [value.name for value in cut_model.graph.output] == [AGE_NETWORK_FEATURE_TENSOR]
    assert not any(node.op_type in ("Gemm", "Softmax") for node in cut_model.graph.node)
    cut = ort.InferenceSession(cut_model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(cut.run(None, {"images": images})[0], expected, rtol=1e-4, atol=1e-5)


def test_cutting_at_an_unknown_tensor_is_refused(tmp_path: Path) -> None:
    source = catalog.verify(catalog.spec("age-estimator"))
    with pytest.raises(ValueError, match="no tensor named"):
        keep_outputs(source, tmp_path / "cut.onnx", ("no_such_tensor",))
    assert not (tmp_path / "cut.onnx").exists()


def test_astronaut_wears_nothing(astronaut: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    rgb, boxes, keypoints = astronaut
    (wear,) = shared_face_pipeline().wear.estimate(rgb, boxes, keypoints)
    for name in ATTRIBUTES:
        assert getattr(wear, name) < 0.5, wear


def test_dark_lenses_painted_over_the_eyes_read_as_sunglasses(
    astronaut: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    rgb, boxes, keypoints = astronaut
    painted = rgb.copy()
    for x, y in keypoints[0, :2]:
        cv2.ellipse(painted, (int(x), int(y)), (13, 9), 0, 0, 360, (15, 15, 20), -1)
    (before,) = shared_face_pipeline().wear.estimate(rgb, boxes, keypoints)
    (after,) = shared_face_pipeline().wear.estimate(painted, boxes, keypoints)
    assert after.sunglasses > 0.5 > before.sunglasses


def test_a_pale_mask_over_the_lower_face_reads_as_occluded(
    astronaut: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    rgb, boxes, keypoints = astronaut
    (left_x, left_y), (right_x, _), nose = keypoints[0, 3], keypoints[0, 4], keypoints[0, 2]
    corners = [
        [left_x - 18, nose[1]],
        [right_x + 18, nose[1]],
        [right_x + 12, left_y + 35],
        [left_x - 12, left_y + 35],
    ]
    masked = rgb.copy()
    cv2.fillPoly(masked, [np.array(corners, np.int32)], (200, 220, 235))
    (wear,) = shared_face_pipeline().wear.estimate(masked, boxes, keypoints)
    assert wear.occluded > 0.9


def test_no_faces_and_bad_inputs() -> None:
    rgb = np.zeros((64, 64, 3), np.uint8)
    assert shared_face_pipeline().wear.estimate(rgb, np.zeros((0, 4)), np.zeros((0, 5, 2))) == []
    texture = FaceTextureFeatures(shared_runtime()).extract(rgb, np.zeros((0, 5, 2)))
    assert texture.shape == (0, len(texture_feature_names()))
    with pytest.raises(ValueError):
        shared_face_pipeline().wear.estimate(rgb, np.zeros((1, 4)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError):
        shared_face_pipeline().wear.estimate(rgb.astype(np.float32), np.zeros((0, 4)), np.zeros((0, 5, 2)))
    with pytest.raises(ValueError):
        FaceWear(eyeglasses=1.5, sunglasses=0.0, beard=0.0, mustache=0.0, occluded=0.0)


@pytest.mark.data
@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"evaluation data not found at {DATA_DIR}")
def test_shipped_heads_separate_the_labelled_faces() -> None:
    """A consistency check of file, features and labels (training faces: not a held-out score)."""
    with LABELS_CSV.open(newline="") as stream:
        rows = list(csv.DictReader(stream))[::4]
    parts = ("eye_left", "eye_right", "nose", "mouth_left", "mouth_right")
    predicted: dict[str, list[float]] = {name: [] for name in ATTRIBUTES}
    for row in rows:
        rgb = np.ascontiguousarray(np.asarray(cv2.imread(str(DATA_DIR / row["image"])))[..., ::-1])
        points = np.array([[float(row[f"{part}_{axis}"]) for axis in "xy"] for part in parts], np.float32)
        (wear,) = shared_face_pipeline().wear.estimate(rgb, np.zeros((1, 4)), points[None])
        for name in ATTRIBUTES:
            predicted[name].append(getattr(wear, name))
    for name in ("eyeglasses", "sunglasses", "beard", "mustache"):
        labels = np.array([int(row[name]) for row in rows])
        accuracy = ((np.array(predicted[name]) >= 0.5) == (labels == 1)).mean()
        assert accuracy >= 0.85, (name, accuracy)
