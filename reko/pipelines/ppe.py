"""The models DetectProtectiveEquipment runs on one image: persons, their faces and heads, and the covers.

The person detector is DetectLabels' COCO SSD and the face detector DetectFaces' YuNet: the same objects the
engine's label and face pipelines hold (one ONNX Runtime session each per process). Faces and heads run on the
shared pool while this thread runs the person detector; then one batched feature pass describes every head and
hand crop for the cover heads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from reko.pipelines.faces import FacePipeline
from reko.pipelines.labels import LabelPipeline, needs_tiles
from reko.vision.boxes import iou_matrix
from reko.vision.faces.detector import FaceDetector
from reko.vision.faces.wear import face_vector_names
from reko.vision.labels.confidence import LabelConfidence, LogisticCurve
from reko.vision.labels.objects import DetectedObjects, ObjectDetector
from reko.vision.ppe.covers import CoverEstimator, CoverModels
from reko.vision.ppe.hands import Hands, find_hands
from reko.vision.ppe.heads import HeadDetector, Heads
from reko.vision.ppe.parts import (
    HEAD_FROM_DETECTOR,
    HEAD_FROM_FACE,
    HEAD_FROM_POSE,
    Placement,
    assign_faces,
    clip_boxes,
)
from reko.vision.ppe.pose import BodyPose, head_references
from reko.vision.runtime import Runtime
from reko.vision.types import FaceBoxes

MAX_PERSONS = 15  # Rekognition reports at most 15 persons, the largest
# Rekognition returns predictions only at confidence >= 50 % (its documentation of MinConfidence).
MIN_REPORTED_PROBABILITY = 0.5
# A detected head and a head placed from a face or the pose are the same head above this overlap (judgement: two
# ground-truth heads of the hard-hat set never overlap 0.4, and placed heads are looser than detected ones).
SAME_HEAD_IOU = 0.3


@dataclass(frozen=True)
class People:
    """Persons and faces of one image, before any cover is judged.

    Attributes:
        boxes: (n, 4) float32 xyxy pixels of the persons, largest first.
        confidence: (n,) float32 measured probability that each person box is right (DetectLabels' curve).
        faces: every face the face detector found.
        face_of: (n,) int64 index into `faces` of each person's face, -1 for none.
    """

    boxes: np.ndarray
    confidence: np.ndarray
    faces: FaceBoxes
    face_of: np.ndarray


@dataclass(frozen=True)
class PersonEquipment:
    """One person and what was measured on their visible parts; a part not seen is None.

    Probabilities are measured likelihoods in [0, 1] (see `reko/vision/models/ppe-covers.npz.md`).
    """

    box: np.ndarray  # (4,) xyxy pixels
    confidence: float
    face_box: np.ndarray | None = None
    face_confidence: float = 0.0
    face_covered: float = 0.0  # P(mask on the face)
    head_box: np.ndarray | None = None
    head_confidence: float = 0.0
    head_covered: float = 0.0  # P(hard hat on the head)
    head_source: int = HEAD_FROM_POSE
    left_hand_box: np.ndarray | None = None  # the person's own left
    left_hand_confidence: float = 0.0
    left_hand_covered: float = 0.0  # P(glove on the hand)
    right_hand_box: np.ndarray | None = None
    right_hand_confidence: float = 0.0
    right_hand_covered: float = 0.0


class PeopleFinder:
    """Persons (COCO SSD, tiled when people look small) and faces (YuNet) of an image."""

    def __init__(
        self, runtime: Runtime, detector: ObjectDetector, face_detector: FaceDetector, confidence: LabelConfidence
    ) -> None:
        self.runtime = runtime
        self.detector = detector
        self.face_detector = face_detector
        self.confidence = confidence  # DetectLabels' detector curves

    def find(self, rgb: np.ndarray) -> People:
        """Every person at or above the reported probability, largest first, and every face."""
        faces = self.runtime.submit(self.face_detector.find_faces, rgb)
        tiled = False

        def tile_when(whole: DetectedObjects) -> bool:
            nonlocal tiled
            tiled = needs_tiles(whole, rgb.shape[0])
            return tiled

        found = self.detector.find_objects(rgb, tile_when=tile_when)
        persons = found.take(np.flatnonzero(np.array(found.class_names, dtype=object) == "person"))
        confidence = self.confidence.objects(persons.scores, fused=tiled)
        kept = np.flatnonzero(confidence >= MIN_REPORTED_PROBABILITY)
        boxes, confidence = persons.boxes[kept], confidence[kept]
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        order = np.argsort(-areas, kind="stable")
        boxes, confidence = boxes[order], confidence[order]
        face_boxes = faces.result()
        return People(boxes, confidence, face_boxes, assign_faces(boxes, face_boxes.boxes))


@dataclass(frozen=True)
class Located:
    """Persons with their face and head placed, largest first, before any curve or cover head runs.

    A face no person box holds is a person too (crowds hide bodies): its box is the head placed from the face,
    all that was seen of that person, and its score the face detector's.

    Attributes:
        boxes: (n, 4) float32 xyxy person boxes.
        person_scores: (n,) the person curve's probability, or the face score for a person seen only by face.
        face_only: (n,) bool, persons seen only by their face.
        face_index: (n,) int64 index into the `People.faces`, -1 when no face was seen.
        heads: (n, 4) float32 xyxy head boxes, clipped to the image.
        head_scores: (n,) float64 what the head's confidence curve reads: the face score or the pose's head score.
        person_row: (n,) int64 index into `People.boxes` (and the pose's rows), -1 for a face-only person.
    """

    boxes: np.ndarray
    person_scores: np.ndarray
    face_only: np.ndarray
    face_index: np.ndarray
    heads: np.ndarray
    head_scores: np.ndarray
    person_row: np.ndarray

    @property
    def from_face(self) -> np.ndarray:
        return self.face_index >= 0


def locate(
    people: People, placements: dict[str, Placement], pose_heads: tuple[np.ndarray, np.ndarray], width: int,
    height: int,
) -> Located:
    """Place heads (from the face when one was seen, else from the pose) and add face-only persons.

    Args:
        pose_heads: `pose.head_references` of `people.boxes`: (n, 4) reference boxes and (n,) scores.
    """
    faces = people.faces
    unowned = np.setdiff1d(np.arange(len(faces)), people.face_of[people.face_of >= 0])
    face_index = np.concatenate([people.face_of, unowned]).astype(np.int64)
    from_face = face_index >= 0
    heads = np.zeros((len(face_index), 4), np.float32)
    heads[: len(people.boxes)] = placements["pose"].place(pose_heads[0])
    heads[from_face] = placements["face"].place(faces.boxes[face_index[from_face]])
    heads = clip_boxes(heads, width, height)
    boxes = np.concatenate([people.boxes, heads[len(people.boxes) :]])
    face_scores = faces.scores[np.maximum(face_index, 0)] if len(faces) else np.zeros(len(face_index), np.float32)
    person_scores = np.concatenate([people.confidence, faces.scores[unowned]]).astype(np.float64)
    pose_scores = np.concatenate([pose_heads[1], np.zeros(len(unowned), np.float32)])
    head_scores = np.where(from_face, face_scores, pose_scores).astype(np.float64)
    face_only = np.arange(len(face_index)) >= len(people.boxes)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = np.argsort(-areas, kind="stable")
    person_row = np.where(face_only, -1, np.arange(len(face_index)))
    return Located(boxes[order], person_scores[order], face_only[order], face_index[order], heads[order],
                   head_scores[order], person_row[order])


class PpePipeline:
    """The PPE models of one process; detectors and face features are those of the label and face pipelines."""

    def __init__(self, runtime: Runtime, labels: LabelPipeline, faces: FacePipeline) -> None:
        self.finder = PeopleFinder(runtime, labels.detector, faces.detector, labels.confidence)
        self.covers = CoverEstimator(runtime, faces.wear.face_vectors, len(face_vector_names()))
        self.pose = BodyPose(runtime)
        self.heads = HeadDetector(runtime)
        self.runtime = runtime

    @property
    def models(self) -> CoverModels:
        return self.covers.models

    def analyze(self, rgb: np.ndarray) -> list[PersonEquipment]:
        """Every person found (largest first, at most 15) with face and head where they were seen."""
        detected_heads = self.runtime.submit(self.heads.find_heads, rgb)
        people = self.finder.find(rgb)
        height, width = rgb.shape[:2]
        curves = self.models.curves
        # the pose's persons run on the pool while this thread judges every face's cover (no pose needed)
        pending = self.pose.start(rgb, people.boxes)
        every_face_covered = self.covers.faces_covered(rgb, people.faces.keypoints)
        body = pending.result()
        placed = locate(people, self.models.placements, head_references(body), width, height)
        faces_of_rows = people.faces.boxes[np.maximum(placed.face_index, 0)] if len(people.faces) else placed.heads
        merged = with_detected_heads(placed, placed_confidence(placed, people, curves), detected_heads.result(),
                                     faces_of_rows)
        found, person_confidence, head_confidence = merged.found, merged.person_confidence, merged.head_confidence
        from_face = found.from_face
        face_boxes = people.faces.boxes[found.face_index[from_face]]
        face_confidence = curves["face"].probability(people.faces.scores[found.face_index[from_face]])
        hands = find_hands(body)
        seen = seen_hands(hands)
        head_covered, hand_covered = self.covers.heads_and_hands_covered(rgb, found.heads, seen.boxes)
        face_covered = every_face_covered[found.face_index[from_face]]
        face_row = np.cumsum(from_face) - 1
        results: list[PersonEquipment] = []
        for i in range(len(found.boxes)):
            if person_confidence[i] < MIN_REPORTED_PROBABILITY or len(results) == MAX_PERSONS:
                continue
            person = PersonEquipment(box=found.boxes[i], confidence=float(person_confidence[i]))
            if head_confidence[i] >= MIN_REPORTED_PROBABILITY:
                person = replace(person, head_box=found.heads[i], head_confidence=float(head_confidence[i]),
                                 head_covered=float(head_covered[i]),
                                 head_source=int(merged.head_source[i]))
            j = face_row[i]
            if from_face[i] and face_confidence[j] >= MIN_REPORTED_PROBABILITY:
                person = replace(person, face_box=face_boxes[j], face_confidence=float(face_confidence[j]),
                                 face_covered=float(face_covered[j]))
            person = _with_hands(person, seen, hand_covered, int(found.person_row[i]))  # -1: face only, no pose
            results.append(person)
        return results


def placed_confidence(found: Located, people: People, curves: dict[str, LogisticCurve]) -> tuple[np.ndarray, ...]:
    """(person, head) measured probabilities of `locate`'s rows: the person curve's or, for a person seen only by
    face, the face curve's; the head curve of where the head was placed from (face or pose)."""
    from_face = found.from_face
    person_confidence = found.person_scores.astype(np.float32)
    person_confidence[found.face_only] = curves["face"].probability(found.person_scores[found.face_only])
    head_confidence = curves["head_from_pose"].probability(found.head_scores)
    head_confidence[from_face] = curves["head_from_face"].probability(found.head_scores[from_face])
    return person_confidence, head_confidence


@dataclass(frozen=True)
class Merged:
    """`locate`'s persons with the head detector's heads merged in (rows sorted largest first again).

    Attributes:
        found: the persons; a person seen only as a detected head has face_index -1, person_row -1 and its
            head's box as its box.
        person_confidence, head_confidence: (n,) float32 measured probabilities.
        head_source: (n,) int64 `HEAD_FROM_FACE`, `HEAD_FROM_POSE` or `HEAD_FROM_DETECTOR`.
    """

    found: Located
    person_confidence: np.ndarray
    head_confidence: np.ndarray
    head_source: np.ndarray


def with_detected_heads(
    found: Located, confidence: tuple[np.ndarray, ...], detected: Heads, face_boxes: np.ndarray
) -> Merged:
    """Merge detected heads into the placed ones: the more probable box of the same head wins; a person without a
    reported head takes a free detected head in the top of its box; every other detected head reported (P >= 50 %)
    is a person of its own (crowds hide bodies: its box is the head's, all that was seen of that person).

    A detected head is the same head as a placed one when they overlap (IoU >= `SAME_HEAD_IOU`) or when it holds
    the centre of the face that head was placed from: a head placed from a 12 px face and the detector's box of
    that head can overlap less than that, and the head then came back as a second person (on the training half,
    4 of the mask set's 14 head-only persons and 3 of the hard-hat set's 36 held another person's face).

    Args:
        confidence: `placed_confidence(found, ...)`: (person, head) probabilities of `found`'s rows.
        face_boxes: (n, 4) xyxy the face of each row of `found` seen from its face (other rows are not read).
    """
    person_confidence, head_confidence = (values.astype(np.float32).copy() for values in confidence)
    heads = found.heads.copy()
    source = np.where(found.from_face, HEAD_FROM_FACE, HEAD_FROM_POSE).astype(np.int64)
    free = np.ones(len(detected.boxes), bool)
    claimed = np.zeros(len(heads), bool)
    overlaps = iou_matrix(detected.boxes, heads) if len(heads) and len(detected.boxes) else None
    if overlaps is not None:
        holds_face = _holds_centres(detected.boxes, face_boxes) & found.from_face[None, :]
        overlaps = np.where(holds_face, np.maximum(overlaps, SAME_HEAD_IOU), overlaps)
    for j in range(len(detected.boxes)):  # most probable first
        if overlaps is None:
            break
        candidates = np.where(claimed, -1.0, overlaps[j])
        i = int(np.argmax(candidates))
        if candidates[i] < SAME_HEAD_IOU:
            continue
        claimed[i], free[j] = True, False
        if detected.confidence[j] > head_confidence[i]:
            heads[i], head_confidence[i], source[i] = detected.boxes[j], detected.confidence[j], HEAD_FROM_DETECTOR
    free &= detected.confidence >= MIN_REPORTED_PROBABILITY
    headless = np.flatnonzero(~found.face_only & (head_confidence < MIN_REPORTED_PROBABILITY))
    owners = assign_faces(found.boxes[headless], detected.boxes[free])
    for i, j in zip(headless[owners >= 0], np.flatnonzero(free)[owners[owners >= 0]], strict=True):
        heads[i], head_confidence[i], source[i] = detected.boxes[j], detected.confidence[j], HEAD_FROM_DETECTOR
        free[j] = False
    extra = np.flatnonzero(free)
    count = len(extra)
    boxes = np.concatenate([found.boxes, detected.boxes[extra]])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = np.argsort(-areas, kind="stable")
    merged = Located(
        boxes=boxes[order],
        person_scores=np.concatenate([found.person_scores, detected.confidence[extra]])[order],
        face_only=np.concatenate([found.face_only, np.zeros(count, bool)])[order],
        face_index=np.concatenate([found.face_index, np.full(count, -1, np.int64)])[order],
        heads=np.concatenate([heads, detected.boxes[extra]])[order],
        head_scores=np.concatenate([found.head_scores, detected.confidence[extra]])[order],
        person_row=np.concatenate([found.person_row, np.full(count, -1, np.int64)])[order],
    )
    return Merged(
        merged,
        np.concatenate([person_confidence, detected.confidence[extra]])[order],
        np.concatenate([head_confidence, detected.confidence[extra]])[order],
        np.concatenate([source, np.full(count, HEAD_FROM_DETECTOR, np.int64)])[order],
    )


def _holds_centres(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(m, n) bool: whether each of `boxes` (m, 4) holds the centre of each of `others` (n, 4), all xyxy."""
    centres = (others[:, :2] + others[:, 2:]) / 2
    return ((boxes[:, None, 0] <= centres[None, :, 0]) & (centres[None, :, 0] <= boxes[:, None, 2])
            & (boxes[:, None, 1] <= centres[None, :, 1]) & (centres[None, :, 1] <= boxes[:, None, 3]))


@dataclass(frozen=True)
class SeenHands:
    """The hands the pose model sees (confidence >= 50 %), flattened for one batched cover pass.

    Attributes:
        boxes: (m, 4) float32 xyxy pixels.
        confidence: (m,) float32.
        row: (m,) int64 the person's row in the pose's persons.
        left: (m,) bool, the person's own left hand.
    """

    boxes: np.ndarray
    confidence: np.ndarray
    row: np.ndarray
    left: np.ndarray


def seen_hands(hands: Hands) -> SeenHands:
    """Every hand of `hands` at or above the reported probability, left hands first."""
    count = len(hands.left)
    boxes = np.concatenate([hands.left, hands.right]).reshape(-1, 4)
    confidence = np.concatenate([hands.left_confidence, hands.right_confidence])
    row = np.concatenate([np.arange(count), np.arange(count)]).astype(np.int64)
    left = np.arange(2 * count) < count
    kept = confidence >= MIN_REPORTED_PROBABILITY
    return SeenHands(boxes[kept], confidence[kept], row[kept], left[kept])


def _with_hands(person: PersonEquipment, seen: SeenHands, covered: np.ndarray, row: int) -> PersonEquipment:
    """`person` with the hands the pose model sees and P(glove) of each; row -1: no pose was run."""
    for i in np.flatnonzero(seen.row == row) if row >= 0 else ():
        if seen.left[i]:
            person = replace(person, left_hand_box=seen.boxes[i], left_hand_confidence=float(seen.confidence[i]),
                             left_hand_covered=float(covered[i]))
        else:
            person = replace(person, right_hand_box=seen.boxes[i], right_hand_confidence=float(seen.confidence[i]),
                             right_hand_covered=float(covered[i]))
    return person
