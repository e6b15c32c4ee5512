"""DetectProtectiveEquipment: persons, their FACE and HEAD, and the covers on them, as Rekognition answers.

Rekognition's rules kept here: at most 15 persons, the largest first, `Id` their 0-based position; predictions
only at confidence >= 50 %; `SummarizationAttributes.MinConfidence` below 50 acts as 50; images of 64 to 4096
px a side. A body part is listed only where a model saw it (in Rekognition's documented order: FACE, LEFT_HAND,
RIGHT_HAND, HEAD); HEAD_COVER, FACE_COVER and HAND_COVER come from the trained cover heads
(`reko/vision/ppe/covers.py`; the glove head is fitted on hands labelled by eye, `docs/hand-cover-labels.md`).
HAND_COVER required: a person is with it when both hands are seen gloved, without it when a seen hand is bare.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reko.operations.common.boxes import xyxy_to_ratio_box
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.pipelines.ppe import MIN_REPORTED_PROBABILITY, PersonEquipment

PPE_MIN_IMAGE_SIDE_PX = 64
PPE_MAX_IMAGE_SIDE_PX = 4096
PPE_MODEL_VERSION = "reko-ppe-1"  # Reko's own models, not Rekognition's "1.0"
# Which body parts a required equipment type must be seen on and covering.
PARTS_OF_EQUIPMENT = {"FACE_COVER": ("FACE",), "HEAD_COVER": ("HEAD",), "HAND_COVER": ("LEFT_HAND", "RIGHT_HAND")}
COVER_OF_PART = {"FACE": "FACE_COVER", "HEAD": "HEAD_COVER", "LEFT_HAND": "HAND_COVER", "RIGHT_HAND": "HAND_COVER"}


def detect_protective_equipment(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Persons in the image with their visible body parts and equipment; a `Summary` when one is asked for."""
    image = load_image(request["Image"], context, min_side_px=PPE_MIN_IMAGE_SIDE_PX,
                       max_side_px=PPE_MAX_IMAGE_SIDE_PX)
    found = context.ppe.analyze(image.rgb)
    persons = [person_member(index, person, image.width, image.height) for index, person in enumerate(found)]
    answer: dict[str, Any] = {"ProtectiveEquipmentModelVersion": PPE_MODEL_VERSION, "Persons": persons}
    attributes = request.get("SummarizationAttributes")
    if attributes is not None:
        answer["Summary"] = summary(found, attributes["RequiredEquipmentTypes"], attributes["MinConfidence"])
    return answer


def person_member(index: int, person: PersonEquipment, width: int, height: int) -> dict[str, Any]:
    """One `ProtectiveEquipmentPerson`, members in botocore's order."""
    parts = []
    if person.face_box is not None:
        parts.append(body_part("FACE", person.face_confidence, person.face_box, person.face_covered, width, height))
    for name, box, confidence, covered in (
        ("LEFT_HAND", person.left_hand_box, person.left_hand_confidence, person.left_hand_covered),
        ("RIGHT_HAND", person.right_hand_box, person.right_hand_confidence, person.right_hand_covered),
    ):
        if box is not None:
            parts.append(body_part(name, confidence, box, covered, width, height))
    if person.head_box is not None:
        parts.append(body_part("HEAD", person.head_confidence, person.head_box, person.head_covered, width, height))
    return {
        "BodyParts": parts,
        "BoundingBox": xyxy_to_ratio_box(person.box, width, height),
        "Confidence": percent(person.confidence),
        "Id": index,
    }


def body_part(name: str, confidence: float, box: np.ndarray, covered: float, width: int, height: int) -> dict[str, Any]:
    """A `ProtectiveEquipmentBodyPart`; its cover is listed when more likely there than not.

    The cover heads measure one thing, P(the part is covered), so an equipment detection's `Confidence` and
    its `CoversBodyPart.Confidence` are that same probability; the cover's box is the part's.
    """
    detections = []
    if covered >= MIN_REPORTED_PROBABILITY:
        detections.append({
            "BoundingBox": xyxy_to_ratio_box(box, width, height),
            "Confidence": percent(covered),
            "Type": COVER_OF_PART[name],
            "CoversBodyPart": {"Confidence": percent(covered), "Value": True},
        })
    return {"Name": name, "Confidence": percent(confidence), "EquipmentDetections": detections}


def summary(persons: list[PersonEquipment], required: list[str], min_confidence: float) -> dict[str, list[int]]:
    """`ProtectiveEquipmentSummary`: each person with, without, or indeterminate for the required types.

    At `MinConfidence` m (50 when lower, in [0, 1] here): a person is *with* when every required cover is
    detected on its body part(s) with probability >= m; *without* when some required part is seen (>= m) and is
    bare with probability >= m; otherwise (person or part below m, a part not seen, a cover in between)
    *indeterminate*. Ids are positions in `Persons`.
    """
    floor = max(min_confidence / 100.0, MIN_REPORTED_PROBABILITY)
    kinds = dict.fromkeys(required)
    with_ids, without_ids, unknown_ids = [], [], []
    for index, person in enumerate(persons):
        verdicts = [part_verdict(person, part, floor) for kind in kinds for part in PARTS_OF_EQUIPMENT[kind]]
        if person.confidence < floor or not verdicts:
            unknown_ids.append(index)
        elif "without" in verdicts:
            without_ids.append(index)
        elif all(verdict == "with" for verdict in verdicts):
            with_ids.append(index)
        else:
            unknown_ids.append(index)
    return {
        "PersonsWithRequiredEquipment": with_ids,
        "PersonsWithoutRequiredEquipment": without_ids,
        "PersonsIndeterminate": unknown_ids,
    }


def part_verdict(person: PersonEquipment, part_name: str, floor: float) -> str:
    """"with", "without" or "unknown" for one body part of a person at probability `floor`."""
    seen = {
        "FACE": (person.face_box is not None, person.face_confidence, person.face_covered),
        "HEAD": (person.head_box is not None, person.head_confidence, person.head_covered),
        "LEFT_HAND": (person.left_hand_box is not None, person.left_hand_confidence, person.left_hand_covered),
        "RIGHT_HAND": (person.right_hand_box is not None, person.right_hand_confidence, person.right_hand_covered),
    }
    visible, confidence, covered = seen[part_name]
    if not visible or confidence < floor:
        return "unknown"
    if covered >= floor:
        return "with"
    return "without" if 1.0 - covered >= floor else "unknown"


def percent(probability: float) -> float:
    return float(min(max(probability, 0.0), 1.0) * 100.0)
