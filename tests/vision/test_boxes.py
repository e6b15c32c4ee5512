"""The one IoU, NMS and box fusion of the project, on boxes whose answers can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from reko.vision.boxes import box_areas, iou_matrix, non_maximum_suppression, weighted_box_fusion


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),  # the same box
        ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),  # half of each overlaps
        ([0, 0, 10, 10], [2, 2, 7, 7], 25 / 100),  # one inside the other
        ([0, 0, 10, 10], [10, 0, 20, 10], 0.0),  # touching edges share no area
        ([0, 0, 10, 10], [30, 30, 40, 40], 0.0),  # far apart
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),  # two empty boxes: no overlap, no division by zero
    ],
)
def test_iou_of_known_boxes(first: list[float], second: list[float], expected: float) -> None:
    overlap = iou_matrix(np.array([first], np.float64), np.array([second], np.float64))
    assert overlap.shape == (1, 1)
    assert overlap[0, 0] == pytest.approx(expected)


def test_iou_matrix_pairs_every_box_and_is_symmetric() -> None:
    first = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], np.float32)
    second = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]], np.float32)
    overlaps = iou_matrix(first, second)
    assert overlaps.shape == (2, 3)
    np.testing.assert_allclose(overlaps, [[1, 1 / 3, 0], [1 / 3, 1, 0]], rtol=1e-6)
    np.testing.assert_allclose(iou_matrix(second, first), overlaps.T)


def test_iou_matrix_accepts_empty_sets() -> None:
    assert iou_matrix(np.zeros((0, 4)), np.array([[0, 0, 1, 1]])).shape == (0, 1)
    assert iou_matrix(np.array([[0, 0, 1, 1]]), np.array([])).shape == (1, 0)


def test_degenerate_boxes_have_zero_area() -> None:
    np.testing.assert_array_equal(box_areas(np.array([[0, 0, 4, 5], [4, 0, 0, 5]], np.float32)), [20, 0])


def test_nms_keeps_the_best_box_of_an_overlapping_group() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 9]], np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.6], np.float32)
    np.testing.assert_array_equal(non_maximum_suppression(boxes, scores, iou_threshold=0.3), [1, 2])


def test_nms_keeps_boxes_overlapping_at_most_the_threshold() -> None:
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], np.float32)  # IoU 1/3
    scores = np.array([0.5, 0.9], np.float32)
    np.testing.assert_array_equal(non_maximum_suppression(boxes, scores, iou_threshold=0.4), [1, 0])
    np.testing.assert_array_equal(non_maximum_suppression(boxes, scores, iou_threshold=0.3), [1])


def test_nms_of_nothing_keeps_nothing() -> None:
    kept = non_maximum_suppression(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.3)
    assert kept.shape == (0,) and kept.dtype == np.int64


@pytest.mark.parametrize(
    ("boxes", "scores", "expected_boxes", "expected_scores"),
    [
        # Two passes agree: one box halfway between them, noisy-or score 1 - 0.5 * 0.5.
        ([[0, 0, 10, 10], [2, 0, 12, 10]], [0.5, 0.5], [[1, 0, 11, 10]], [0.75]),
        # The better box weighs three times as much: the fused box lies a quarter of the way to the weaker one.
        ([[0, 0, 10, 10], [2, 0, 12, 10]], [0.75, 0.25], [[0.5, 0, 10.5, 10]], [0.8125]),
        # Overlap 1/3 is under the threshold: two objects, best first.
        ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.4, 0.9], [[5, 0, 15, 10], [0, 0, 10, 10]], [0.9, 0.4]),
        # A lone box keeps its box and score.
        ([[3, 4, 5, 6]], [0.3], [[3, 4, 5, 6]], [0.3]),
    ],
)
def test_weighted_box_fusion(
    boxes: list[list[float]], scores: list[float], expected_boxes: list[list[float]], expected_scores: list[float]
) -> None:
    fused, fused_scores = weighted_box_fusion(np.array(boxes, np.float32), np.array(scores, np.float32), 0.5)
    np.testing.assert_allclose(fused, expected_boxes, atol=1e-5)
    np.testing.assert_allclose(fused_scores, expected_scores, atol=1e-6)


def test_weighted_box_fusion_joins_the_fused_box_not_the_first_member() -> None:
    # The third box overlaps the first by 0.38 but the fused (shifted) box by 0.54, so it joins the cluster.
    boxes = np.array([[0, 0, 10, 10], [3, 0, 13, 10], [4.5, 0, 14.5, 10]], np.float32)
    fused, _ = weighted_box_fusion(boxes, np.array([0.5, 0.5, 0.1], np.float32), 0.5)
    assert len(fused) == 1


def test_weighted_box_fusion_of_nothing_is_nothing() -> None:
    fused, scores = weighted_box_fusion(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5)
    assert fused.shape == (0, 4) and scores.shape == (0,)
