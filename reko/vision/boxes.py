"""Box geometry shared by the detectors, the benchmarks and the tests: one IoU and one NMS.

Boxes are (n, 4) xyxy arrays in pixels (any float dtype). A box with right < left or bottom < top has zero
area rather than a negative one.
"""

from __future__ import annotations

import numpy as np

# Keeps IoU finite for two zero-area boxes (a union of 0 px²); they overlap by 0.
MIN_UNION_PX2 = 1e-9
# Keeps a fused box finite when every box fused into it scored 0.
MIN_SCORE_SUM = 1e-9


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """(n,) areas of xyxy boxes in px², zero for degenerate boxes."""
    # np.maximum, not np.clip: the same numbers, and np.clip's wrapper cost half of box fusion's time.
    return np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)


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
    sides = np.maximum(bottom_right - top_left, 0)
    overlap = sides[:, :, 0] * sides[:, :, 1]
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


def weighted_box_fusion(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Fuse boxes that several passes found for one object into one box, instead of keeping only the best.

    Best score first, each box joins the fused box it overlaps most when that overlap exceeds `iou_threshold`
    (else it starts a new one); a fused box is the score-weighted mean of its members and its score their noisy-or,
    1 - prod(1 - score): an object two passes agree on ranks above one that only one pass saw. Unlike NMS,
    weaker boxes move the box instead of being thrown away.

    Args:
        boxes: (n, 4) xyxy boxes of one class.
        scores: (n,) confidences in [0, 1].
        iou_threshold: overlap with a fused box above which a box joins it.

    Returns:
        (k, 4) float32 fused boxes and (k,) float32 scores, in the order the clusters were started (best first
        by their first member; fused scores may reorder them).

    Example:
        >>> fused, fused_scores = weighted_box_fusion(
        ...     np.array([[0.0, 0, 10, 10], [1.0, 0, 11, 10]]), np.array([0.5, 0.5]), 0.5)
        >>> fused.tolist(), fused_scores.tolist()
        ([[0.5, 0.0, 10.5, 10.0]], [0.75])
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    boxes = np.asarray(boxes, np.float64)
    weights = np.asarray(scores, np.float64)
    # Running sums per fused box (weighted boxes, weights, product of misses) make a join O(1); the first
    # `count` rows are in use.
    fused, weighted = np.zeros((len(order), 4)), np.zeros((len(order), 4))
    total, missed = np.zeros(len(order)), np.ones(len(order))
    count = 0
    for index in order:
        if count:
            overlaps = iou_matrix(boxes[index : index + 1], fused[:count])[0]
            best = int(np.argmax(overlaps))
            if overlaps[best] > iou_threshold:
                weighted[best] += boxes[index] * weights[index]
                total[best] += weights[index]
                missed[best] *= 1 - weights[index]
                fused[best] = weighted[best] / max(total[best], MIN_SCORE_SUM)
                continue
        fused[count], weighted[count] = boxes[index], boxes[index] * weights[index]
        total[count], missed[count] = weights[index], 1 - weights[index]
        count += 1
    return fused[:count].astype(np.float32), (1 - missed[:count]).astype(np.float32)
