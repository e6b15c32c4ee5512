"""Placing heads, giving faces to persons, person crops for the pose model, hand boxes (pure geometry)."""

from __future__ import annotations

import numpy as np
import pytest

from reko.pipelines.ppe import Located, with_detected_heads
from reko.vision.ppe.covers import crop
from reko.vision.ppe.hands import find_hands
from reko.vision.ppe.heads import Heads
from reko.vision.ppe.parts import HEAD_FROM_DETECTOR, HEAD_FROM_FACE, Placement, assign_faces, fit_placement
from reko.vision.ppe.pose import LEFT_HAND_POINTS, POSE_POINTS, BodyPoints, head_references, person_crop


def test_a_fitted_placement_reproduces_its_pairs() -> None:
    references = np.array([[10, 20, 30, 40], [100, 100, 140, 160]], np.float32)
    truth = Placement(dx=0.1, width=1.5, top=-0.8, height=2.0)
    heads = truth.place(references)
    fitted = fit_placement(references, heads)
    np.testing.assert_allclose(fitted.to_array(), truth.to_array(), atol=1e-5)
    np.testing.assert_allclose(Placement.from_array(fitted.to_array()).place(references), heads, atol=1e-4)


@pytest.mark.parametrize(
    ("persons", "faces", "owners"),
    [
        # the face at the top of the person is its own; one low in the box (a face on a T-shirt) is not
        ([[0, 0, 100, 300]], [[40, 10, 60, 30]], [0]),
        ([[0, 0, 100, 300]], [[40, 250, 60, 270]], [-1]),
        # two persons overlap: the first (largest) takes the largest face, each face goes once
        ([[0, 0, 100, 300], [50, 0, 150, 300]], [[60, 10, 90, 40], [70, 10, 80, 20]], [0, 1]),
        ([[0, 0, 100, 300]], np.zeros((0, 4)), [-1]),
    ],
)
def test_assign_faces(persons: list, faces: list, owners: list[int]) -> None:
    found = assign_faces(np.array(persons, np.float32), np.array(faces, np.float32).reshape(-1, 4))
    assert found.tolist() == owners


def test_crop_widens_and_stays_in_the_image() -> None:
    rgb = np.zeros((100, 200, 3), np.uint8)
    assert crop(rgb, np.array([50, 40, 70, 60]), 0.5).shape == (40, 40, 3)
    assert crop(rgb, np.array([-20, -20, 10, 10]), 0.5).shape == (25, 25, 3)
    assert crop(rgb, np.array([100, 50, 100, 50]), 0.0).shape == (4, 4, 3)  # a degenerate box: a few pixels


def test_a_person_crop_maps_back_to_the_image() -> None:
    rgb = np.zeros((300, 400, 3), np.uint8)
    crop, back = person_crop(rgb, np.array([100, 50, 200, 250], np.float32))
    assert crop.shape == (256, 256, 3) and crop.dtype == np.float32
    centre = back[:, :2] @ np.array([128.0, 128.0]) + back[:, 2]
    np.testing.assert_allclose(centre, [150, 150], atol=1e-3)
    corner = back[:, :2] @ np.array([256.0, 256.0]) + back[:, 2]
    np.testing.assert_allclose(corner, [150 + 125, 150 + 125], atol=1e-3)  # the 200 px side, enlarged 1.25x


def test_hands_are_the_persons_own_and_hold_their_points() -> None:
    points = np.zeros((1, POSE_POINTS, 2), np.float32)
    visibility = np.zeros((1, POSE_POINTS), np.float32)
    points[0, list(LEFT_HAND_POINTS)] = [[300, 200], [310, 220], [300, 222], [292, 212]]  # on the image's right
    visibility[0, list(LEFT_HAND_POINTS)] = 0.9
    hands = find_hands(BodyPoints(points, visibility, np.array([1.0], np.float32)))
    left = hands.left[0]
    assert left[0] <= 292 and left[2] >= 310 and left[1] <= 200 and left[3] >= 222
    assert hands.left_confidence[0] == pytest.approx(0.9) and hands.right_confidence[0] == 0


def test_the_pose_head_reference_sits_on_the_visible_head_points() -> None:
    points = np.zeros((1, POSE_POINTS, 2), np.float32)
    visibility = np.zeros((1, POSE_POINTS), np.float32)
    points[0, :11] = [100, 50]
    points[0, 7] = [300, 300]  # an ear the model does not see: it must not pull the head
    visibility[0, :11] = 0.9
    visibility[0, 7] = 0.0
    points[0, 11], points[0, 12] = [80, 100], [120, 100]  # shoulders 40 px apart
    boxes, scores = head_references(BodyPoints(points, visibility, np.array([0.5], np.float32)))
    np.testing.assert_allclose(boxes[0], [80, 30, 120, 70], atol=0.01)
    assert scores[0] == pytest.approx(0.9 * 10 / 11 * 0.5)


def test_detected_heads_merge_into_persons_or_become_persons() -> None:
    # person 0: a face-placed head at 90 %; person 1: a pose-placed head too unsure to report (20 %)
    found = Located(
        boxes=np.array([[0, 0, 100, 300], [200, 0, 300, 300]], np.float32),
        person_scores=np.array([0.9, 0.8]), face_only=np.array([False, False]), face_index=np.array([0, -1]),
        heads=np.array([[30, 0, 70, 40], [400, 400, 410, 410]], np.float32),
        head_scores=np.array([0.9, 0.2]), person_row=np.array([0, 1]),
    )
    detected = Heads(
        boxes=np.array([[32, 2, 72, 42], [230, 10, 270, 50], [500, 10, 530, 40]], np.float32),
        confidence=np.array([0.8, 0.7, 0.6], np.float32),
    )
    faces = np.array([[35, 10, 65, 40], [0, 0, 0, 0]], np.float32)  # row 1 has no face: never read
    merged = with_detected_heads(found, (np.array([0.9, 0.8]), np.array([0.9, 0.2])), detected, faces)
    # the same head as the face-placed one, less sure: the face's box stays; person 1 takes the head in its top;
    # the third head is a person of its own, boxed as the head, last (smallest)
    np.testing.assert_array_equal(merged.found.heads[0], found.heads[0])
    assert merged.head_source.tolist() == [HEAD_FROM_FACE, HEAD_FROM_DETECTOR, HEAD_FROM_DETECTOR]
    np.testing.assert_array_equal(merged.found.heads[1], detected.boxes[1])
    np.testing.assert_array_equal(merged.found.boxes[2], detected.boxes[2])
    np.testing.assert_allclose(merged.head_confidence, [0.9, 0.7, 0.6], atol=1e-6)
    np.testing.assert_allclose(merged.person_confidence, [0.9, 0.8, 0.6], atol=1e-6)
    assert merged.found.person_row.tolist() == [0, 1, -1] and merged.found.face_index.tolist() == [0, -1, -1]


def test_a_detected_head_holding_a_small_face_is_that_face_s_head_not_a_second_person() -> None:
    # a 10 px face placed a 16 px head; the detector boxed the same head larger (IoU 0.2 with the placed one)
    found = Located(
        boxes=np.array([[100, 100, 116, 120]], np.float32), person_scores=np.array([0.9]),
        face_only=np.array([True]), face_index=np.array([0]), heads=np.array([[100, 100, 116, 120]], np.float32),
        head_scores=np.array([0.9]), person_row=np.array([-1]),
    )
    detected = Heads(boxes=np.array([[96, 92, 136, 132]], np.float32), confidence=np.array([0.95], np.float32))
    faces = np.array([[103, 106, 113, 116]], np.float32)
    merged = with_detected_heads(found, (np.array([0.9]), np.array([0.9])), detected, faces)
    assert len(merged.found.boxes) == 1  # one person, not two
    assert merged.head_source.tolist() == [HEAD_FROM_DETECTOR]  # the surer box of the same head
    np.testing.assert_array_equal(merged.found.heads[0], detected.boxes[0])
