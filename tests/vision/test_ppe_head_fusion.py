"""How PPE's two head detectors' boxes become one list (`ppe.heads.agree`)."""

from __future__ import annotations

import numpy as np
import pytest

from reko.vision.ppe.heads import agree

NONE = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32))


def found(*rows: tuple[float, float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    values = np.array(rows, np.float32).reshape(-1, 5)
    return values[:, :4], values[:, 4]


def test_a_head_both_detectors_see_scores_the_mean_and_keeps_the_surer_box() -> None:
    boxes, scores = agree(found((10, 10, 30, 30, 0.9)), found((11, 11, 31, 31, 0.5)))
    assert len(boxes) == 1
    np.testing.assert_array_equal(boxes[0], [10, 10, 30, 30])
    assert scores[0] == pytest.approx(0.7)


def test_a_head_one_detector_misses_scores_half_and_the_list_is_best_first() -> None:
    boxes, scores = agree(found((0, 0, 20, 20, 0.8), (100, 100, 120, 120, 0.6)), found((101, 101, 121, 121, 0.9)))
    assert scores.tolist() == pytest.approx([0.75, 0.4])
    np.testing.assert_array_equal(boxes[1], [0, 0, 20, 20])


def test_no_box_from_either_detector_is_no_head() -> None:
    boxes, scores = agree(NONE, NONE)
    assert boxes.shape == (0, 4) and scores.shape == (0,)
    boxes, scores = agree(NONE, found((5, 5, 25, 25, 0.6)))
    assert scores.tolist() == pytest.approx([0.3])
