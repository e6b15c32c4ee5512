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

from bench import face_wear
from reko.vision import catalog
from reko.vision.faces import chips as face_chips
from reko.vision.faces.age_gender import AGE_CHIP_PX, CHANNEL_MEANS, CHIP_PADDING, PIXEL_SCALE
from reko.vision.faces.features import FaceTextureFeatures, texture_feature_names
from reko.vision.faces.wear import ATTRIBUTES, FaceWear, face_vector_names
from reko.vision.faces.wear_features import feature_names, wear_features
from reko.vision.onnx_outputs import AGE_NETWORK_FEATURE_TENSOR, keep_outputs
from reko.vision.types import FaceBoxes
from tests.conftest import REPO_ROOT, SHARED_DATA, needs_shared_data, shared_face_pipeline, shared_runtime

LABELS_CSV = REPO_ROOT / "bench" / "labels" / "face_wear.csv"


@pytest.fixture(scope="module")
def astronaut(astronaut_rgb: np.ndarray, astronaut_face: FaceBoxes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The astronaut photo (a woman, no glasses, no cover), its face box and 5 keypoints."""
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


def test_age_run_gives_the_wear_heads_the_maps_they_would_compute(
    astronaut: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Age and wear share one age-network run when both are asked for: the answer must not change."""
    rgb, boxes, keypoints = astronaut
    faces = shared_face_pipeline()
    _, maps = faces.age_gender.read_with_texture(rgb, keypoints)
    np.testing.assert_allclose(
        faces.wear.face_vectors(rgb, keypoints, maps), faces.wear.face_vectors(rgb, keypoints), rtol=1e-5, atol=1e-6
    )
    assert faces.wear.estimate(rgb, boxes, keypoints, maps) == faces.wear.estimate(rgb, boxes, keypoints)


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


# Held-out bars: a constant answer scores 0.5 on both, whatever the class balance.
MIN_HELD_OUT_BALANCED_ACCURACY = 0.6
MIN_HELD_OUT_AUC = 0.85
# The shipped heads fit their own training faces perfectly (balanced accuracy 1.0 on every 4th one).
MIN_TRAINING_FIT_BALANCED_ACCURACY = 0.95


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean of the recalls of both classes: 0.5 for any constant answer, so it cannot be won by the majority."""
    return float((predicted[labels == 1].mean() + (~predicted[labels == 0]).mean()) / 2)


@needs_shared_data("faces")
def test_shipped_heads_still_fit_their_training_faces() -> None:
    """A regression guard, not an accuracy figure: every 4th face of bench/labels/face_wear.csv, which
    scripts/train_face_wear.py fitted the shipped heads on. A broken file, feature order or keypoint reading
    shows up here; how well the heads generalise is the held-out test below.
    """
    with LABELS_CSV.open(newline="") as stream:
        rows = list(csv.DictReader(stream))[::4]
    parts = ("eye_left", "eye_right", "nose", "mouth_left", "mouth_right")
    predicted: dict[str, list[float]] = {name: [] for name in ATTRIBUTES}
    for row in rows:
        rgb = np.ascontiguousarray(np.asarray(cv2.imread(str(SHARED_DATA / row["image"])))[..., ::-1])
        points = np.array([[float(row[f"{part}_{axis}"]) for axis in "xy"] for part in parts], np.float32)
        (wear,) = shared_face_pipeline().wear.estimate(rgb, np.zeros((1, 4)), points[None])
        for name in ATTRIBUTES:
            predicted[name].append(getattr(wear, name))
    for name in ATTRIBUTES:
        labels = np.array([int(row[name]) for row in rows])
        says_yes = np.array(predicted[name]) >= 0.5
        majority = max(labels.mean(), 1 - labels.mean())
        assert (says_yes == (labels == 1)).mean() > majority, name
        assert balanced_accuracy(labels, says_yes) >= MIN_TRAINING_FIT_BALANCED_ACCURACY, name


@needs_shared_data("faces", "lfw")
@needs_shared_data("faces", "landmarks_afw")
@needs_shared_data("faces", "wider_val_200_416")
@needs_shared_data("ppe", "face_mask_detection")
def test_heads_beat_the_majority_on_faces_they_were_not_fitted_on() -> None:
    """Every face scored by a head refitted without it: 5 folds grouped by person or photo (bench/face_wear.py).

    Why refit: scripts/train_face_wear.py fits the shipped heads on ALL hand-labelled faces and ALL mask-set
    faces, and no other set in ../shared/data labels glasses, beards or face covers, so no face exists that the
    shipped heads never saw. The refit uses the shipped recipe (same features, same L2 penalty); that one
    penalty was picked on these same folds (3 to 100 tried), the only overlap between tuning and scoring.
    The bars are balanced accuracy and AUC, where always-"no" scores 0.5; sunglasses (22 of 616 faces) or beard
    (42) would pass a plain accuracy bar of 0.85 with a constant answer. Accuracy must also not fall below
    the majority's. Measured: balanced accuracy 0.65 (beard) to 0.92 (occluded, mask set), AUC 0.87-0.995.
    """
    rows = [row for row in face_wear.run(SHARED_DATA, (face_wear.SHIPPED_FEATURES,)) if row["sample"] == "every face"]
    assert {row["attribute"] for row in rows} == set(ATTRIBUTES)
    for row in rows:
        name = f"{row['attribute']} on {row['subset']} faces"
        recall, negative_recall = float(row["recall"]), float(row["negative_recall"])
        assert float(row["accuracy"]) >= float(row["majority_accuracy"]), (name, row)
        assert (recall + negative_recall) / 2 >= MIN_HELD_OUT_BALANCED_ACCURACY, (name, row)
        assert float(row["auc"]) >= MIN_HELD_OUT_AUC, (name, row)
