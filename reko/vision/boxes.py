"""Box geometry shared by the detectors, the benchmarks and the tests: one IoU and one NMS.

Boxes are (n, 4) xyxy arrays in pixels (any float dtype). A box with right < left or bottom < top has zero
area rather than a negative one.
"""

from __future__ import annotations

import numpy as np

# Keeps IoU finite for two zero-area boxes (a union of 0 px²); they overlap by 0.
MIN_UNION_PX2 = 1e-9


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """(n,) areas of xyxy boxes in px², zero for degenerate boxes."""
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def iou_matrix(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Intersection over union of every pair of boxes.

    Args:
        first: (n, 4) xyxy boxes.
        second: (m, 4) xyxy boxes.

    Returns:
        (n, m) IoU in [0, 1].

    Example:
        >>> iou_matrix(np.array([[0.0, 0, 10, 10]]), np.array([[5.0, 0, 15, 10]]))
        array([[0.33333333]])
    """
    first = np.asarray(first).reshape(-1, 4)
    second = np.asarray(second).reshape(-1, 4)
    top_left = np.maximum(first[:, None, :2], second[None, :, :2])
    bottom_right = np.minimum(first[:, None, 2:], second[None, :, 2:])
    overlap = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    union = box_areas(first)[:, None] + box_areas(second)[None, :] - overlap
    return overlap / np.maximum(union, MIN_UNION_PX2)


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS: keep the best-scored box, drop the boxes overlapping it by more than `iou_threshold`, repeat.

    Ties in score keep the earlier box first. A box is dropped only by a better-scored kept box, so the boxes
    kept above any score are the same whatever lower-scored boxes took part.

    Args:
        boxes: (n, 4) xyxy boxes.
        scores: (n,) confidences.
        iou_threshold: overlap above which the lower-scored box of a pair is dropped.

    Returns:
        (k,) int64 indices of the kept boxes, best score first.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(int(best))
        order = rest[iou_matrix(boxes[best : best + 1], boxes[rest])[0] <= iou_threshold]
    return np.array(keep, np.int64)
