"""The second stage of Custom Labels object detection: every first-stage box is looked at whole, rescored and moved.

The first stage (`reko.vision.training.detection`) judges one 16 px cell at a time, which sees too little of a
20-40 px head to place its edges. Here each candidate box is described by the feature maps sampled (bilinear) at
3x3 points spread over the box, plus its log size in cells: 3,890 numbers that see the object's whole extent.
Per label, a logistic head says whether the box overlaps a true box of its label at IoU >= 0.5, and one ridge
regression moves its centre and scales its sides (Fast R-CNN's box deltas) toward the true box. A box's final
score is the geometric mean of the two stages' probabilities; non-maximum suppression runs again on the moved
boxes. Both are fitted on the first stage's own boxes of the training images (floor 1 %).

Measured by 3-fold cross-validation by image inside the 80 training photos of hard_hat_workers (the bench split;
the held-back 20 unused; load ~7 on 2 cores), macro F1 at IoU 0.5 at the F1-best thresholds: first stage alone
0.465; with this stage scoring alone 0.592, with the geometric mean 0.620 (IoU 0.3: 0.631 -> 0.689). Ridge alpha
1000 gave 0.620, head C 0.01 0.627, alpha 10000 with C 0.2 0.579; 2x2 sample points 0.611, 4x4 0.622. Tried and
left: fitting both stages on mirrored photos too 0.583; fitting this stage on candidates of first stages that did
not see the photo (3 inner folds) 0.595; one head scoring every label's candidates for every label 0.588; a
second refiner on this stage's output 0.652 (within the folds' noise, and ten times the fitting time). The cost
at serving: one descriptor per candidate box, no extra network pass (~3 ms an image in-process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from reko.vision.training.detection import (
    BoxHead,
    FeatureGrid,
    FoundBoxes,
    TrainingBox,
    suppress_and_vote,
)
from reko.vision.training.heads import LinearHeads, fit_heads
from reko.vision.training.metrics import MATCH_IOU, box_iou

SAMPLE_FRACTIONS = np.array([1 / 6, 1 / 2, 5 / 6])  # of the box's width and height: the centres of a 3x3 split
REFINE_HEAD_C = 0.05
REFINE_RIDGE_ALPHA = 3000.0
REGRESSION_MIN_IOU = 0.3  # boxes this close to a true box teach the regression where it lies
MAX_LOG_SCALE = 1.0  # a side grows or shrinks by e at most


@dataclass(frozen=True)
class Refiner:
    """Box descriptors → per-label probabilities (`classes`) and box deltas (`boxes`, the first stage's linear
    form on the descriptors: centre shift x, y as shares of the width / height, log width and height factors)."""

    classes: LinearHeads
    boxes: BoxHead

    def deltas(self, descriptors: np.ndarray) -> np.ndarray:
        return self.boxes.predict(descriptors)


Describer = Callable[[FeatureGrid, np.ndarray], np.ndarray]  # (grid, (m, 4) xyxy image-pixel boxes) → (m, d)


def box_descriptors(grid: FeatureGrid, boxes: np.ndarray) -> np.ndarray:
    """(m, 9 * c + 2) float32: the grid's cells sampled at 3x3 points inside each (m, 4) xyxy image-pixel box, then
    the box's log width and height in cells."""
    cells = grid.cells
    rows, columns = cells.shape[:2]
    x0, x1 = (boxes[:, [0, 2]] * grid.scale_x / grid.stride_px - 0.5).T
    y0, y1 = (boxes[:, [1, 3]] * grid.scale_y / grid.stride_px - 0.5).T
    xs = np.clip(x0[:, None] + (x1 - x0)[:, None] * SAMPLE_FRACTIONS, 0, columns - 1)
    ys = np.clip(y0[:, None] + (y1 - y0)[:, None] * SAMPLE_FRACTIONS, 0, rows - 1)
    points = len(SAMPLE_FRACTIONS)
    x = np.repeat(xs[:, None, :], points, axis=1).reshape(len(boxes), points * points)
    y = np.repeat(ys[:, :, None], points, axis=2).reshape(len(boxes), points * points)
    left, top = np.floor(x).astype(int), np.floor(y).astype(int)
    right, bottom = np.minimum(left + 1, columns - 1), np.minimum(top + 1, rows - 1)
    wx, wy = (x - left)[..., None], (y - top)[..., None]
    sampled = (cells[top, left] * (1 - wx) * (1 - wy) + cells[top, right] * wx * (1 - wy)
               + cells[bottom, left] * (1 - wx) * wy + cells[bottom, right] * wx * wy)
    sizes = np.log(np.maximum(np.stack([(boxes[:, 2] - boxes[:, 0]) * grid.scale_x,
                                        (boxes[:, 3] - boxes[:, 1]) * grid.scale_y], axis=1), 1.0) / grid.stride_px)
    return np.concatenate([sampled.reshape(len(boxes), points * points * cells.shape[2]), sizes],
                          axis=1).astype(np.float32)


def true_boxes(boxes: Sequence[TrainingBox], label_index: int) -> np.ndarray:
    return np.array([[b.left, b.top, b.left + b.width, b.top + b.height] for b in boxes
                     if b.label_index == label_index], np.float32).reshape(-1, 4)


def box_deltas(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    width, height = found[:, 2] - found[:, 0], found[:, 3] - found[:, 1]
    return np.stack([
        ((truth[:, 0] + truth[:, 2]) - (found[:, 0] + found[:, 2])) / 2 / width,
        ((truth[:, 1] + truth[:, 3]) - (found[:, 1] + found[:, 3])) / 2 / height,
        np.log((truth[:, 2] - truth[:, 0]) / width), np.log((truth[:, 3] - truth[:, 1]) / height),
    ], axis=1)


def fit_refiner(
    grids: Sequence[FeatureGrid], boxes: Sequence[Sequence[TrainingBox]],
    candidates: Sequence[Sequence[FoundBoxes]], label_count: int, describe: Describer = box_descriptors,
) -> Refiner | None:
    """The second stage, fitted on each image's candidate boxes against its true boxes; None when there is nothing
    to learn (no candidate near a true box, or a label whose candidates are all right or all wrong). `describe`
    gives the boxes' descriptors (the third stage, `crop_refinement`, passes its own)."""
    descriptors: list[np.ndarray] = []
    classes: list[np.ndarray] = []
    moved: list[np.ndarray] = []
    deltas: list[np.ndarray] = []
    for grid, image_boxes, groups in zip(grids, boxes, candidates, strict=True):
        for group in groups:
            if not len(group.boxes):
                continue
            described = describe(grid, group.boxes)
            truth = true_boxes(image_boxes, group.label_index)
            overlaps = np.stack([box_iou(box, truth) for box in group.boxes]).reshape(len(group.boxes), len(truth))
            best = overlaps.max(axis=1) if len(truth) else np.zeros(len(group.boxes))
            targets = np.zeros((len(described), label_count), bool)
            targets[:, group.label_index] = best >= MATCH_IOU
            descriptors.append(described)
            classes.append(targets)
            close = best >= REGRESSION_MIN_IOU
            if close.any():
                moved.append(described[close])
                deltas.append(box_deltas(group.boxes[close], truth[overlaps[close].argmax(axis=1)]))
    if not moved:
        return None
    all_classes = np.concatenate(classes)
    if all_classes.all(axis=0).any() or (~all_classes).all(axis=0).any():
        return None
    heads = fit_heads(np.concatenate(descriptors), all_classes, c=REFINE_HEAD_C, balanced=False)
    return Refiner(heads, fit_box_head(np.concatenate(moved), np.concatenate(deltas)))


def fit_box_head(examples: np.ndarray, deltas: np.ndarray, alpha: float = REFINE_RIDGE_ALPHA) -> BoxHead:
    """A ridge regression from (n, d) box descriptors to their (n, 4) `box_deltas`."""
    mean, scale = examples.mean(axis=0), examples.std(axis=0) + 1e-6
    from sklearn.linear_model import Ridge  # only training needs it: 1.7 s off every server start

    ridge = Ridge(alpha=alpha).fit((examples - mean) / scale, deltas)
    return BoxHead(mean.astype(np.float32), scale.astype(np.float32), ridge.coef_.T.astype(np.float32),
                   ridge.intercept_.astype(np.float32))


def moved_boxes(boxes: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """(m, 4) xyxy boxes moved by their (m, 4) predicted `box_deltas` (each side scaled by e at most)."""
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2 + deltas[:, 0] * width
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2 + deltas[:, 1] * height
    half_w = width * np.exp(np.clip(deltas[:, 2], -MAX_LOG_SCALE, MAX_LOG_SCALE)) / 2
    half_h = height * np.exp(np.clip(deltas[:, 3], -MAX_LOG_SCALE, MAX_LOG_SCALE)) / 2
    return np.stack([centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h],
                    axis=1).astype(np.float32)


def refine(
    refiner: Refiner, grid: FeatureGrid, candidates: Sequence[FoundBoxes], floor: float,
    describe: Describer = box_descriptors,
) -> list[FoundBoxes]:
    """The candidates moved, rescored (geometric mean of the candidate's score and this stage's probability),
    suppressed again and cut at `floor`."""
    found: list[FoundBoxes] = []
    for group in candidates:
        if not len(group.boxes):
            continue
        described = describe(grid, group.boxes)
        boxes = moved_boxes(group.boxes, refiner.deltas(described))
        probability = refiner.classes.probabilities(described)[:, group.label_index]
        scores = np.sqrt(probability * group.scores)
        kept_boxes, kept_scores = suppress_and_vote(boxes, scores.astype(np.float32))
        keep = kept_scores >= floor
        if keep.any():
            found.append(FoundBoxes(group.label_index, kept_boxes[keep], kept_scores[keep]))
    return found
