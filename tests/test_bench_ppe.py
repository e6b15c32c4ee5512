"""The PPE bench's pure parts: which truth parts Rekognition's 15-person cap leaves reportable."""

from __future__ import annotations

import numpy as np

from bench.ppe import largest_boxes


def test_largest_boxes_marks_the_largest_by_area_and_keeps_file_order_on_ties() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 30, 30], [0, 0, 20, 20], [5, 5, 15, 15]], np.float32)
    assert largest_boxes(boxes, 2).tolist() == [False, True, True, False]
    assert largest_boxes(boxes, 3).tolist() == [True, True, True, False]  # the first of two equal areas
    assert largest_boxes(boxes, 15).all()
