"""bench/face_compare.py's operating points: the FAR threshold is conservative, pairs and folds are counted right."""

from __future__ import annotations

import numpy as np
import pytest

from bench.face_compare import accept_rate, all_pairs, negative_distance_matrix, threshold_at_far, two_fold_accuracy


@pytest.mark.parametrize(("rate", "allowed"), [(0.1, 10), (0.05, 5), (0.001, 0), (0.0149, 1)])
def test_the_far_threshold_lets_through_at_most_the_allowed_impostors(rate: float, allowed: int) -> None:
    impostor = np.random.default_rng(0).normal(size=100)
    threshold = threshold_at_far(impostor, rate)
    assert (impostor >= threshold).sum() == allowed
    assert accept_rate(impostor, threshold) <= rate
    assert (impostor >= np.nextafter(threshold, -np.inf)).sum() == allowed + 1  # the smallest such threshold


def test_all_pairs_splits_genuine_from_impostor_and_drops_missing_faces() -> None:
    people = np.array(["a", "a", "b", "c"])
    scores = np.arange(16, dtype=float).reshape(4, 4)
    genuine, impostor = all_pairs(scores, people, np.array([True, True, True, False]))
    assert list(genuine) == [1.0] and sorted(impostor) == [2.0, 6.0]


def test_two_fold_accuracy_picks_each_threshold_on_the_other_fold() -> None:
    scores = np.array([0.9, 0.8, 0.2, 0.1, 0.6, 0.5, 0.4, 0.3])
    same = np.array([True, True, False, False, True, True, False, False])
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    # fold 0's best threshold (0.8) misses fold 1's genuine pairs; fold 1's (0.5) is right on fold 0.
    assert two_fold_accuracy(scores, same, folds) == pytest.approx((1.0 + 0.5) / 2)


def test_negative_distance_is_minus_the_euclidean_distance() -> None:
    points = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(negative_distance_matrix(points), [[0, -5], [-5, 0]], atol=1e-12)
