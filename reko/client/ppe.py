"""DetectProtectiveEquipment's answer: persons, their body parts, the equipment found on each, and the summary."""

from __future__ import annotations

from dataclasses import dataclass

from reko.client.faces import CoversBodyPart
from reko.client.geometry import BoundingBox
from reko.client.parsing import (
    Answer,
    int_list,
    optional_float,
    optional_int,
    optional_str,
    optional_struct,
    result_list,
    struct_list,
)


@dataclass(frozen=True)
class EquipmentDetection:
    """One piece of equipment (FACE_COVER, HAND_COVER, HEAD_COVER) and whether it covers its body part."""

    type: str | None
    bounding_box: BoundingBox | None
    confidence: float | None
    covers_body_part: CoversBodyPart | None

    @classmethod
    def from_api(cls, answer: Answer) -> EquipmentDetection:
        return cls(
            type=optional_str(answer, "Type"),
            bounding_box=optional_struct(answer, "BoundingBox", BoundingBox.from_api),
            confidence=optional_float(answer, "Confidence"),
            covers_body_part=optional_struct(answer, "CoversBodyPart", CoversBodyPart.from_api),
        )


@dataclass(frozen=True)
class ProtectiveEquipmentBodyPart:
    """A body part of a person (FACE, HEAD, LEFT_HAND, RIGHT_HAND) with the equipment found on it."""

    name: str | None
    confidence: float | None
    equipment_detections: tuple[EquipmentDetection, ...] | None

    @classmethod
    def from_api(cls, answer: Answer) -> ProtectiveEquipmentBodyPart:
        return cls(
            name=optional_str(answer, "Name"), confidence=optional_float(answer, "Confidence"),
            equipment_detections=struct_list(answer, "EquipmentDetections", EquipmentDetection.from_api),
        )


@dataclass(frozen=True)
class ProtectiveEquipmentPerson:
    """A person, numbered by `id` within this answer (the summary lists these ids)."""

    id: int | None
    bounding_box: BoundingBox | None
    confidence: float | None
    body_parts: tuple[ProtectiveEquipmentBodyPart, ...] | None

    @classmethod
    def from_api(cls, answer: Answer) -> ProtectiveEquipmentPerson:
        return cls(
            id=optional_int(answer, "Id"),
            bounding_box=optional_struct(answer, "BoundingBox", BoundingBox.from_api),
            confidence=optional_float(answer, "Confidence"),
            body_parts=struct_list(answer, "BodyParts", ProtectiveEquipmentBodyPart.from_api),
        )


@dataclass(frozen=True)
class ProtectiveEquipmentSummary:
    """Person ids with, without, or of undetermined required equipment (present only when summarization was
    asked for)."""

    persons_with_required_equipment: tuple[int, ...] | None
    persons_without_required_equipment: tuple[int, ...] | None
    persons_indeterminate: tuple[int, ...] | None

    @classmethod
    def from_api(cls, answer: Answer) -> ProtectiveEquipmentSummary:
        return cls(
            int_list(answer, "PersonsWithRequiredEquipment"), int_list(answer, "PersonsWithoutRequiredEquipment"),
            int_list(answer, "PersonsIndeterminate"),
        )


@dataclass(frozen=True)
class DetectProtectiveEquipmentResult:
    """DetectProtectiveEquipment's answer.

    Example:
        >>> result = client.detect_protective_equipment("site.jpg", required_equipment=["HEAD_COVER"])
        >>> result.summary.persons_without_required_equipment
        (1,)
    """

    persons: tuple[ProtectiveEquipmentPerson, ...]
    model_version: str | None = None
    summary: ProtectiveEquipmentSummary | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> DetectProtectiveEquipmentResult:
        return cls(
            persons=result_list(answer, "Persons", ProtectiveEquipmentPerson.from_api),
            model_version=optional_str(answer, "ProtectiveEquipmentModelVersion"),
            summary=optional_struct(answer, "Summary", ProtectiveEquipmentSummary.from_api),
        )
