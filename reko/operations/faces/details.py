"""Rekognition's `FaceDetail` vocabulary: which members a request asks for, and how values are spelled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DEFAULT_MEMBERS = frozenset({"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"})
ATTRIBUTE_MEMBERS: Mapping[str, str] = {
    "AGE_RANGE": "AgeRange",
    "BEARD": "Beard",
    "EMOTIONS": "Emotions",
    "EYE_DIRECTION": "EyeDirection",
    "EYEGLASSES": "Eyeglasses",
    "EYES_OPEN": "EyesOpen",
    "GENDER": "Gender",
    "MOUTH_OPEN": "MouthOpen",
    "MUSTACHE": "Mustache",
    "FACE_OCCLUDED": "FaceOccluded",
    "SMILE": "Smile",
    "SUNGLASSES": "Sunglasses",
}


def requested_members(attributes: Iterable[str] | None) -> frozenset[str]:
    """`FaceDetail` members to return: the default set always, plus what was asked (`ALL`: everything).

    Rekognition documents that `["FACE_OCCLUDED"]` alone means the default set plus FaceOccluded.
    """
    asked = set(attributes or ())
    if "ALL" in asked:
        return DEFAULT_MEMBERS | frozenset(ATTRIBUTE_MEMBERS.values())
    return DEFAULT_MEMBERS | frozenset(ATTRIBUTE_MEMBERS[name] for name in asked if name in ATTRIBUTE_MEMBERS)


def wants_all_landmarks(attributes: Iterable[str] | None) -> bool:
    return "ALL" in set(attributes or ())


def percent(probability: float) -> float:
    return float(min(max(probability, 0.0), 1.0) * 100.0)


def boolean_attribute(probability: float) -> dict[str, object]:
    """A yes/no attribute: the more likely answer and the confidence in *that* answer, as Rekognition gives."""
    value = probability >= 0.5
    return {"Value": bool(value), "Confidence": percent(probability if value else 1.0 - probability)}


def gender(male_probability: float, confidence: float) -> dict[str, object]:
    """`Gender`: the network's arg-max, with the calibrated probability that it is right (not the network's own)."""
    return {"Value": "Male" if male_probability >= 0.5 else "Female", "Confidence": percent(confidence)}


def emotions(confidences: Mapping[str, float]) -> list[dict[str, object]]:
    """`Emotions` list, most confident first; `confidences` maps Rekognition names to probabilities."""
    ranked = sorted(confidences.items(), key=lambda item: -item[1])
    return [{"Type": name, "Confidence": percent(probability)} for name, probability in ranked]

# botocore's member order of `FaceDetail`, kept in answers so they read like Rekognition's.
FACE_DETAIL_ORDER = (
    "BoundingBox", "AgeRange", "Smile", "Eyeglasses", "Sunglasses", "Gender", "Beard", "Mustache", "EyesOpen",
    "MouthOpen", "Emotions", "Landmarks", "Pose", "Quality", "Confidence", "FaceOccluded", "EyeDirection",
)
