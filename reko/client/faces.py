"""A face and what was read from it (DetectFaces' FaceDetail, CompareFaces' ComparedFace), and the two answers.

Every member a face may carry is a field; one the answer lacks (an attribute not asked for, or one the service
does not produce) is None, never a default. The value + confidence pairs are one small class each, named as the
connector names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from reko.client.geometry import BoundingBox
from reko.client.parsing import (
    Answer,
    optional_bool,
    optional_float,
    optional_int,
    optional_str,
    optional_struct,
    required,
    required_float,
    result_list,
    struct_list,
)


@dataclass(frozen=True)
class BooleanAttribute:
    """A yes/no reading with the service's confidence in it (0-100)."""

    value: bool
    confidence: float

    @classmethod
    def from_api(cls, answer: Answer) -> Self:
        return cls(
            value=required(optional_bool(answer, "Value"), "Value"), confidence=required_float(answer, "Confidence")
        )


class Beard(BooleanAttribute):
    """Whether the face has a beard."""


class Eyeglasses(BooleanAttribute):
    """Whether the face wears glasses (sunglasses included)."""


class EyesOpen(BooleanAttribute):
    """Whether the eyes are open."""


class MouthOpen(BooleanAttribute):
    """Whether the mouth is open."""


class Mustache(BooleanAttribute):
    """Whether the face has a mustache."""


class Sunglasses(BooleanAttribute):
    """Whether the face wears sunglasses."""


class Smile(BooleanAttribute):
    """Whether the face smiles."""


class FaceOccluded(BooleanAttribute):
    """Whether part of the face is hidden (a hand, a mask, a phone)."""


class CoversBodyPart(BooleanAttribute):
    """Whether a piece of protective equipment covers the body part it was found on."""


@dataclass(frozen=True)
class Gender:
    """The predicted gender presentation ("Male" or "Female"), not a person's gender identity."""

    value: str
    confidence: float

    @classmethod
    def from_api(cls, answer: Answer) -> Gender:
        return cls(required(optional_str(answer, "Value"), "Gender.Value"), required_float(answer, "Confidence"))


@dataclass(frozen=True)
class AgeRange:
    """The estimated age in years, low to high."""

    low: int
    high: int

    @classmethod
    def from_api(cls, answer: Answer) -> AgeRange:
        return cls(required(optional_int(answer, "Low"), "AgeRange.Low"),
                   required(optional_int(answer, "High"), "AgeRange.High"))


@dataclass(frozen=True)
class Emotion:
    """One emotion the face appears to show (HAPPY, SAD, …) and the confidence (0-100) in that appearance."""

    type: str
    confidence: float

    @classmethod
    def from_api(cls, answer: Answer) -> Emotion:
        return cls(required(optional_str(answer, "Type"), "Emotion.Type"), required_float(answer, "Confidence"))


@dataclass(frozen=True)
class Landmark:
    """A named point of the face (eyeLeft, nose, chinBottom, …) as ratios of the image's width and height."""

    type: str
    x: float
    y: float

    @classmethod
    def from_api(cls, answer: Answer) -> Landmark:
        return cls(
            required(optional_str(answer, "Type"), "Landmark.Type"), required_float(answer, "X"),
            required_float(answer, "Y"),
        )

    def to_pixels(self, width: int, height: int) -> tuple[int, int]:
        return round(self.x * width), round(self.y * height)


@dataclass(frozen=True)
class Pose:
    """The head's rotation in degrees (-180 to 180)."""

    roll: float
    yaw: float
    pitch: float

    @classmethod
    def from_api(cls, answer: Answer) -> Pose:
        return cls(required_float(answer, "Roll"), required_float(answer, "Yaw"), required_float(answer, "Pitch"))


@dataclass(frozen=True)
class ImageQuality:
    """Brightness and sharpness of the face's region, 0-100 (higher is brighter, sharper)."""

    brightness: float | None
    sharpness: float | None

    @classmethod
    def from_api(cls, answer: Answer) -> ImageQuality:
        return cls(optional_float(answer, "Brightness"), optional_float(answer, "Sharpness"))


@dataclass(frozen=True)
class EyeDirection:
    """Where the eyes look, in degrees, and the confidence (0-100) in that reading."""

    yaw: float
    pitch: float
    confidence: float

    @classmethod
    def from_api(cls, answer: Answer) -> EyeDirection:
        return cls(required_float(answer, "Yaw"), required_float(answer, "Pitch"), required_float(answer, "Confidence"))


@dataclass(frozen=True)
class Face:
    """One face as DetectFaces (FaceDetail) or CompareFaces (ComparedFace) describes it.

    DetectFaces with DEFAULT fills bounding_box, confidence, landmarks, pose and quality; ALL adds the rest.

    Example:
        >>> face = client.detect_faces("team.jpg", attributes=["ALL"]).faces[0]
        >>> face.smile.value if face.smile else None
        True
    """

    bounding_box: BoundingBox | None = None
    confidence: float | None = None
    landmarks: tuple[Landmark, ...] | None = None
    pose: Pose | None = None
    quality: ImageQuality | None = None
    age_range: AgeRange | None = None
    smile: Smile | None = None
    eyeglasses: Eyeglasses | None = None
    sunglasses: Sunglasses | None = None
    gender: Gender | None = None
    beard: Beard | None = None
    mustache: Mustache | None = None
    eyes_open: EyesOpen | None = None
    mouth_open: MouthOpen | None = None
    emotions: tuple[Emotion, ...] | None = None
    face_occluded: FaceOccluded | None = None
    eye_direction: EyeDirection | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> Face:
        return cls(
            bounding_box=optional_struct(answer, "BoundingBox", BoundingBox.from_api),
            confidence=optional_float(answer, "Confidence"),
            landmarks=struct_list(answer, "Landmarks", Landmark.from_api),
            pose=optional_struct(answer, "Pose", Pose.from_api),
            quality=optional_struct(answer, "Quality", ImageQuality.from_api),
            age_range=optional_struct(answer, "AgeRange", AgeRange.from_api),
            smile=optional_struct(answer, "Smile", Smile.from_api),
            eyeglasses=optional_struct(answer, "Eyeglasses", Eyeglasses.from_api),
            sunglasses=optional_struct(answer, "Sunglasses", Sunglasses.from_api),
            gender=optional_struct(answer, "Gender", Gender.from_api),
            beard=optional_struct(answer, "Beard", Beard.from_api),
            mustache=optional_struct(answer, "Mustache", Mustache.from_api),
            eyes_open=optional_struct(answer, "EyesOpen", EyesOpen.from_api),
            mouth_open=optional_struct(answer, "MouthOpen", MouthOpen.from_api),
            emotions=struct_list(answer, "Emotions", Emotion.from_api),
            face_occluded=optional_struct(answer, "FaceOccluded", FaceOccluded.from_api),
            eye_direction=optional_struct(answer, "EyeDirection", EyeDirection.from_api),
        )

    def landmark(self, landmark_type: str) -> Landmark | None:
        """The landmark of that type ("nose", "eyeLeft", …), or None when the answer has none."""
        return next((mark for mark in self.landmarks or () if mark.type == landmark_type), None)


@dataclass(frozen=True)
class DetectFacesResult:
    """DetectFaces' answer: the faces, largest first as Reko lists them."""

    faces: tuple[Face, ...]
    orientation_correction: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> DetectFacesResult:
        return cls(result_list(answer, "FaceDetails", Face.from_api), optional_str(answer, "OrientationCorrection"))


@dataclass(frozen=True)
class CompareFacesMatch:
    """A face of the target image that matched the source face, with its similarity (0-100)."""

    similarity: float | None
    face: Face | None

    @classmethod
    def from_api(cls, answer: Answer) -> CompareFacesMatch:
        return cls(optional_float(answer, "Similarity"), optional_struct(answer, "Face", Face.from_api))


@dataclass(frozen=True)
class CompareFacesResult:
    """CompareFaces' answer: the source image's largest face, and each target face matched or not.

    `source_face` carries only bounding_box and confidence (ComparedSourceImageFace); boxes of `source_face` refer
    to the source image, those of `matches` and `unmatched` to the target image.
    """

    source_face: Face | None
    matches: tuple[CompareFacesMatch, ...]
    unmatched: tuple[Face, ...]
    source_orientation_correction: str | None = None
    target_orientation_correction: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> CompareFacesResult:
        return cls(
            source_face=optional_struct(answer, "SourceImageFace", Face.from_api),
            matches=result_list(answer, "FaceMatches", CompareFacesMatch.from_api),
            unmatched=result_list(answer, "UnmatchedFaces", Face.from_api),
            source_orientation_correction=optional_str(answer, "SourceImageOrientationCorrection"),
            target_orientation_correction=optional_str(answer, "TargetImageOrientationCorrection"),
        )
