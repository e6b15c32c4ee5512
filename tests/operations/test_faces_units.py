"""Pure Rekognition semantics of DetectFaces: attribute selection, value spelling, emotion mapping."""

from __future__ import annotations

import pytest

from reko.operations.faces import details as face_details
from reko.operations.faces.detect import rekognition_emotions


@pytest.mark.parametrize(
    ("attributes", "expected_extra"),
    [
        (None, set()),
        ([], set()),
        (["DEFAULT"], set()),
        (["SMILE"], {"Smile"}),
        (["DEFAULT", "GENDER", "AGE_RANGE"], {"Gender", "AgeRange"}),
        (["ALL", "DEFAULT"], set(face_details.ATTRIBUTE_MEMBERS.values())),
    ],
)
def test_requested_members(attributes, expected_extra) -> None:
    assert face_details.requested_members(attributes) == face_details.DEFAULT_MEMBERS | expected_extra


@pytest.mark.parametrize(("probability", "value", "confidence"), [(0.9, True, 90.0), (0.2, False, 80.0),
                                                                 (0.5, True, 50.0)])
def test_boolean_attribute_reports_confidence_in_its_answer(probability, value, confidence) -> None:
    assert face_details.boolean_attribute(probability) == {"Value": value, "Confidence": pytest.approx(confidence)}


def test_gender_spelling() -> None:
    """The value is the network's arg-max; the confidence is the calibrated one, not the network's probability."""
    assert face_details.gender(0.3, 0.62) == {"Value": "Female", "Confidence": pytest.approx(62.0)}
    assert face_details.gender(0.8, 0.55) == {"Value": "Male", "Confidence": pytest.approx(55.0)}


def test_emotions_are_the_model_classes_most_confident_first() -> None:
    fer = {"angry": 0.05, "disgust": 0.0, "fear": 0.05, "happy": 0.6, "sad": 0.05, "surprise": 0.2, "neutral": 0.05}
    listed = face_details.emotions(rekognition_emotions(fer))
    # Clients read Emotions[0] as the answer: the model's best class, never a derived value.
    assert [e["Type"] for e in listed[:2]] == ["HAPPY", "SURPRISED"]
    assert {e["Type"] for e in listed} == {"HAPPY", "SAD", "ANGRY", "DISGUSTED", "SURPRISED", "CALM", "FEAR"}
    confidences = [e["Confidence"] for e in listed]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(100.0)


def test_neutral_is_calm() -> None:
    fer = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.1, "sad": 0.1, "surprise": 0.0, "neutral": 0.8}
    assert face_details.emotions(rekognition_emotions(fer))[0] == {"Type": "CALM", "Confidence": pytest.approx(80.0)}
