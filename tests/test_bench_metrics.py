"""bench.metrics on tiny hand-made examples whose curves and AP can be worked out on paper."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics import (
    average_precision,
    curve_from_counts,
    match_detections,
    precision_recall_curve,
    recall_at_precision,
)

# Four detections against three positives, best first: hit, miss, hit, miss.
# Points: (P 1, R 1/3), (P 1/2, R 1/3), (P 2/3, R 2/3), (P 1/2, R 2/3).
SCORES = np.array([0.6, 0.9, 0.7, 0.8])  # deliberately not sorted
HITS = np.array([False, True, True, False])


def test_curve_has_one_point_per_score_highest_first() -> None:
    curve = precision_recall_curve(SCORES, HITS, HITS, positives=3)
    np.testing.assert_allclose(curve.thresholds, [0.9, 0.8, 0.7, 0.6])
    np.testing.assert_allclose(curve.precision, [1, 1 / 2, 2 / 3, 1 / 2])
    np.testing.assert_allclose(curve.recall, [1 / 3, 1 / 3, 2 / 3, 2 / 3])


def test_average_precision_integrates_the_precision_envelope() -> None:
    # Envelope: precision 1 up to recall 1/3, then 2/3 up to recall 2/3; nothing beyond the highest recall.
    curve = precision_recall_curve(SCORES, HITS, HITS, positives=3)
    assert average_precision(curve) == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3)


def test_perfect_detector_has_ap_one_and_empty_one_zero() -> None:
    perfect = precision_recall_curve(np.array([0.9, 0.8]), np.ones(2, bool), np.ones(2, bool), positives=2)
    assert average_precision(perfect) == pytest.approx(1.0)
    empty = precision_recall_curve(np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), positives=2)
    assert average_precision(empty) == 0.0


def test_tied_scores_form_one_point() -> None:
    curve = precision_recall_curve(np.array([0.5, 0.5]), np.array([True, False]), np.array([True, False]), 1)
    np.testing.assert_allclose(curve.precision, [0.5])
    np.testing.assert_allclose(curve.recall, [1.0])


def test_matches_off_the_positives_count_for_precision_only() -> None:
    # The second detection lies on a face too small to score: not a false positive, not recall either.
    curve = precision_recall_curve(np.array([0.9, 0.8]), np.array([True, True]), np.array([True, False]), 2)
    np.testing.assert_allclose(curve.precision, [1, 1])
    np.testing.assert_allclose(curve.recall, [0.5, 0.5])


def test_recall_at_precision_takes_the_best_point_reaching_it() -> None:
    curve = precision_recall_curve(SCORES, HITS, HITS, positives=3)
    assert recall_at_precision(curve, 0.6) == pytest.approx(2 / 3)
    assert recall_at_precision(curve, 0.9) == pytest.approx(1 / 3)
    empty = precision_recall_curve(np.array([0.5]), np.array([False]), np.array([False]), 1)
    assert recall_at_precision(empty, 0.5) is None


def test_curve_from_counts_sorts_and_drops_thresholds_without_detections() -> None:
    curve = curve_from_counts(
        thresholds=np.array([0.5, 0.9, 0.7]),
        matched=np.array([3, 0, 2]),
        detections=np.array([4, 0, 2]),
        found=np.array([2, 0, 1]),
        positives=4,
    )
    np.testing.assert_allclose(curve.thresholds, [0.7, 0.5])
    np.testing.assert_allclose(curve.precision, [1.0, 0.75])
    np.testing.assert_allclose(curve.recall, [0.25, 0.5])
    assert curve.at(0.6) == pytest.approx((1.0, 0.25))
    assert curve.at(0.95) is None


def test_matching_is_one_to_one_best_score_first() -> None:
    truth = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float32)
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.5, 0.9, 0.8, 0.7], np.float32)
    # The 0.9 box takes the first face; the exact 0.5 box finds it taken and stays unmatched.
    np.testing.assert_array_equal(match_detections(boxes, scores, truth), [-1, 0, 1, -1])


def test_matching_needs_half_overlap() -> None:
    truth = np.array([[0, 0, 10, 10]], np.float32)
    boxes = np.array([[5, 0, 15, 10]], np.float32)  # IoU 1/3
    np.testing.assert_array_equal(match_detections(boxes, np.array([1.0]), truth), [-1])
    np.testing.assert_array_equal(match_detections(boxes, np.array([1.0]), np.zeros((0, 4))), [-1])
