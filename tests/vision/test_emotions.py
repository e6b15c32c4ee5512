"""Expression probabilities from fer's CNN (converted to ONNX), on crops framed from Reko's keypoints."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.face_expressions_dev import DEV_DIR, MISSED, TYPES, central_face, halves, load_dev, read_rgb, scores
from reko.operations.faces.detect import EMOTION_NAMES_BY_FER_CLASS as EMOTION_TYPES
from reko.pipelines.faces import Needs
from reko.vision.faces.emotions import CROP_PX, EMOTION_NAMES, EmotionClassifier, EmotionFraming, emotion_crops
from tests.conftest import SHARED_DATA, needs_shared_data, shared_face_pipeline, shared_runtime

# YuNet's box (xyxy) and 5 keypoints on skimage's astronaut() (see test_face_chips.py).
ASTRONAUT_BOXES = np.array([[178.0, 62.6, 268.4, 176.4]], np.float32)
ASTRONAUT_KEYPOINTS = np.array(
    [[[200.1, 101.8], [247.2, 102.6], [220.3, 124.7], [198.9, 143.2], [239.8, 143.9]]], np.float32
)
HAPPY = EMOTION_NAMES.index("happy")


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier(shared_runtime())


def test_bundled_model_is_catalogued_and_intact() -> None:
    path = shared_runtime().model_path("emotion-classifier")
    assert path.is_file() and path.with_suffix(".onnx.md").is_file()


def test_smiling_astronaut_is_happy(astronaut_rgb: np.ndarray, classifier: EmotionClassifier) -> None:
    probabilities = classifier.classify(astronaut_rgb, ASTRONAUT_BOXES, ASTRONAUT_KEYPOINTS)
    assert probabilities.shape == (1, len(EMOTION_NAMES)) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert probabilities[0].argmax() == HAPPY and probabilities[0, HAPPY] > 0.8


def test_tilted_and_box_only_faces_are_still_happy(
    astronaut_rgb: np.ndarray, classifier: EmotionClassifier
) -> None:
    centre = tuple(float(v) for v in ASTRONAUT_KEYPOINTS[0].mean(axis=0))
    rotation = cv2.getRotationMatrix2D(centre, 30.0, 1.0)
    rotated = cv2.warpAffine(astronaut_rgb, rotation, astronaut_rgb.shape[1::-1], flags=cv2.INTER_LINEAR)
    keypoints = (ASTRONAUT_KEYPOINTS @ rotation[:, :2].T + rotation[:, 2]).astype(np.float32)
    assert classifier.classify(rotated, ASTRONAUT_BOXES, keypoints)[0].argmax() == HAPPY
    no_keypoints = np.full_like(ASTRONAUT_KEYPOINTS, np.nan)  # falls back to fer's box framing
    assert classifier.classify(astronaut_rgb, ASTRONAUT_BOXES, no_keypoints)[0].argmax() == HAPPY


def test_crops_are_grey_upright_and_framed_like_fer(astronaut_rgb: np.ndarray) -> None:
    crops = emotion_crops(astronaut_rgb, ASTRONAUT_BOXES, ASTRONAUT_KEYPOINTS)
    assert crops.shape == (1, CROP_PX, CROP_PX) and crops.dtype == np.uint8
    # The face fills the crop: the eyes' row is in the upper half, the mouth's in the lower half.
    rows = crops[0].astype(float)
    assert rows[:, 16:48].std() > 20


def test_no_faces(astronaut_rgb: np.ndarray, classifier: EmotionClassifier) -> None:
    out = classifier.classify(astronaut_rgb, np.zeros((0, 4), np.float32), np.zeros((0, 5, 2), np.float32))
    assert out.shape == (0, len(EMOTION_NAMES))


LABELS_FILE = Path(__file__).resolve().parents[2] / "bench" / "labels" / "face_expressions.csv"
SMILE_SAMPLE_FACES = 40  # of each label, from the random LFW sample
DEV_FACES_PER_CLASS = 16


def _top_class(rgb: np.ndarray) -> str | None:
    """The expression model's best class for the face nearest the centre (Emotions[0] in DetectFaces)."""
    faces = shared_face_pipeline().analyze(rgb, Needs(emotions=True))
    face = central_face(faces, rgb.shape)
    if face is None or face.emotions is None:
        return None
    return max(face.emotions, key=face.emotions.__getitem__)


@pytest.mark.data
@needs_shared_data("faces", "lfw")
def test_happy_comes_first_on_smiling_faces() -> None:
    """Faces hand-labelled for Reko, which the expression model (FER-2013) and its crop (chosen on
    expressions_dev) never saw: HAPPY first must separate smiles far better than the majority answer."""
    with LABELS_FILE.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["sample"] == "random" and row["smile"]]
    sample = [row for row in rows if row["smile"] == "1"][:SMILE_SAMPLE_FACES]
    sample += [row for row in rows if row["smile"] == "0"][:SMILE_SAMPLE_FACES]
    happy = [_top_class(read_rgb(SHARED_DATA / row["image"])) == "happy" for row in sample]
    smiling = [row["smile"] == "1" for row in sample]
    on_smiles = sum(h for h, s in zip(happy, smiling, strict=True) if s) / sum(smiling)
    accuracy = sum(h == s for h, s in zip(happy, smiling, strict=True)) / len(sample)
    majority = max(sum(smiling), len(sample) - sum(smiling)) / len(sample)
    assert on_smiles > 0.75, f"HAPPY first on {on_smiles:.0%} of smiling faces"
    assert accuracy > majority + 0.2, f"HAPPY-first agrees with the smile label on {accuracy:.0%}"


@pytest.mark.data
@needs_shared_data("faces", "expressions_dev")
def test_balanced_accuracy_on_the_report_half_is_well_above_chance() -> None:
    """The report half of expressions_dev (the crop was chosen on the other half only), up to
    DEV_FACES_PER_CLASS photos a class: mean per-class recall well above chance (1/7)."""
    report_half = halves(load_dev(SHARED_DATA))["report"]
    sample = [image for name in TYPES for image in [i for i in report_half if i.emotion == name][:DEV_FACES_PER_CLASS]]
    truth = [image.emotion for image in sample]
    predicted = []
    for image in sample:
        top = _top_class(read_rgb(SHARED_DATA / DEV_DIR / "images" / image.file))
        predicted.append(EMOTION_TYPES[top] if top else MISSED)
    row = scores(truth, predicted)
    assert float(row["balanced_accuracy"]) > 2.5 / len(TYPES), row  # type: ignore[arg-type]


def test_outside_a_tight_portrait_is_filled_by_its_edge(astronaut_rgb: np.ndarray) -> None:
    # The astronaut cut to her face box: fer's crop spills over every side.
    tight = np.ascontiguousarray(astronaut_rgb[62:176, 178:268])
    keypoints = ASTRONAUT_KEYPOINTS - np.array([178, 62], np.float32)
    boxes = ASTRONAUT_BOXES - np.array([178, 62, 178, 62], np.float32)
    black = emotion_crops(tight, boxes, keypoints, EmotionFraming(outside="black"))[0]
    filled = emotion_crops(tight, boxes, keypoints)[0]
    assert black[0, 0] == 0 and black[-1, -1] == 0
    assert filled[0, 0] > 0 and filled[-1, -1] > 0
    # Inside the photo both framings read the same pixels.
    assert np.abs(black[24:40, 24:40].astype(int) - filled[24:40, 24:40]).max() <= 1


@pytest.mark.parametrize("framing", [{"side": 0.9}, {"outside": "white"}])
def test_framing_refuses_crops_that_cut_the_face_or_unknown_fills(framing: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EmotionFraming(**framing)  # type: ignore[arg-type]
