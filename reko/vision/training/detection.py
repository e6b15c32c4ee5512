"""Object detection for Custom Labels: a head trained on the frozen feature maps of EfficientNet-Lite0.

Design (a one-stage, CenterNet-like head, small enough to fit in seconds on a CPU): the image is scaled so its
longer side is `DETECTION_SIDE_PX` and described by the backbone's stride-16 map (112 channels) beside its
stride-32 map (320 channels, repeated 2x2), 432 numbers a 16 px cell. For each label, a logistic head says whether
a cell lies at the centre of an object of the label (cells near the centre of a box are positives, the rest of
the box is ignored, cells outside every box are negatives); one ridge regression over the positive cells gives
each cell's box (centre offset and log size in cells). Finding = cells above a floor, their boxes, non-maximum
suppression per label, each kept box averaged with the boxes it suppressed (weighted by score).

Measured on hard_hat_workers (80 training / 20 held-back images, bench/custom_labels.py): ridge alpha 10 fitted
the training boxes (92 % of positive cells at IoU >= 0.5) and generalised badly (33 %); alpha 3000 gave 62 % on
held-back cells, 30000 49 %; a gradient-boosted regressor on 64 principal components reached only 56 % and took
7 minutes to fit; cells of 8 px (adding the stride-8 map, 40 channels) scored lower in the cross-validation below
(0.411 against 0.465). Longer side 640: at 512 the same cross-validation gave 0.394 (the feature maps took 168 ms
an image against 240 ms at 640, 2 cores under a load of ~9). What limits F1 is
localisation at IoU 0.5 on heads of 20-40 px (cells are told apart well: held-back cell AUC 0.97 helmet, 0.99 head).

Tried again on 2026-11-30 with both stages, by `python -m scripts.measure_custom_label_detection` (3-fold CV inside
the 80 training photos under three fold assignments, because one assignment moves macro F1 by ~0.03; the held-back
20 unread; load 4-7 on 2 cores). Longer side 640: 0.616 / 0.598 / 0.569 (mean 0.594); 768: 0.601 / 0.628 / 0.626
(0.618); 832: 0.658 / 0.676 / 0.583 (0.639); 1024: 0.624 on the first assignment only. Upscaling helps a little
but the maps cost 1.4-2.7x (one 416 px photo at load ~0.5: 55 ms at 640, 96 ms at 832, 150 ms at 1024), which
would take DetectCustomLabels past its 120 ms p50 target (103 ms idle at 640): 640 kept. Left, each worse or within
the noise on the same assignments (ad-hoc variants of that script): NMS IoU 0.5 for the first stage's candidates
(0.645 / 0.588 / 0.576), 0.45 for both (0.647 / 0.578 / 0.595); refining every candidate cell before one NMS
(0.594, first assignment); the second stage sampling the box's edges (mean 0.568), a ring around it (0.550) or 5x5
points reaching a quarter beyond it (0.582); fitting on the photos at 640 and 832 together, judging at 640
(0.562 / 0.547 / 0.544); an MLP (128 hidden, scikit-learn) for the first stage's boxes (0.459) or the second's
(0.100, left undebugged).
Thresholds from 5 folds instead of 3, nested inside the same CV (each outer fold's thresholds from its own
training photos, as training does): 0.547 -> 0.564 at the assumed thresholds (0.538 / 0.601 / 0.552 against
0.546 / 0.556 / 0.538), within the noise; the assumed thresholds cost ~0.05 against the F1-best ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from reko.vision.labels.classifier import lite_tensor
from reko.vision.runtime import Runtime
from reko.vision.training.heads import LinearHeads, fit_heads

DETECTION_SIDE_PX = 640
STRIDE_PX = 16
BOX_RIDGE_ALPHA = 3000.0
# Cell heads: strong L2 and no class balancing. 3-fold cross-validation inside the 80 training photos of
# hard_hat_workers (bench/custom_labels.py split; the held-back 20 unused), macro F1 at the F1-best thresholds:
# C 0.5 balanced 0.415, C 0.5 unbalanced 0.436, C 0.05 unbalanced 0.465 (ridge alpha 1000 instead: 0.463).
DETECTION_HEAD_C = 0.05
CANDIDATE_FLOOR = 0.01  # cells scoring below this never become boxes, even at MinConfidence 0
NMS_IOU = 0.3  # heads and logos rarely overlap more than this
MAX_BOXES = 100
# Negative cells kept for fitting, at most: 80 hard-hat images give ~120k cells, 98 % background; the heads fit
# in about half the time on a third of them with the same held-back cell AUC.
MAX_NEGATIVE_CELLS = 40_000


@dataclass(frozen=True)
class FeatureGrid:
    """(gh, gw, d) cell descriptions of one image and the factors from image pixels to grid-input pixels.

    Custom Labels' grids are Lite0's (d 432, 16 px cells); PPE's head detector reads YuNet's (`ppe.heads`, 8 px).
    """

    cells: np.ndarray
    scale_x: float
    scale_y: float
    stride_px: int = STRIDE_PX
    image: np.ndarray | None = None  # the (H, W, 3) RGB described, for stages that crop it (`crop_refinement`)


class FeatureMaps:
    """The `image-feature-maps` model (EfficientNet-Lite0 cut at stride 16 and 32, any input size)."""

    def __init__(self, runtime: Runtime, side_px: int = DETECTION_SIDE_PX) -> None:
        self._session = runtime.session("image-feature-maps")
        self._input_name = self._session.get_inputs()[0].name
        self._side_px = side_px  # another side only for measuring (scripts/measure_custom_label_detection.py)

    def describe(self, rgb: np.ndarray) -> FeatureGrid:
        height, width = rgb.shape[:2]
        factor = self._side_px / max(height, width)
        grid_h = max(2, round(height * factor / 32)) * 32
        grid_w = max(2, round(width * factor / 32)) * 32
        shrinking = grid_h * grid_w < height * width
        resized = cv2.resize(rgb, (grid_w, grid_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
        fine, coarse = self.maps(lite_tensor(resized)[None])
        coarse = np.repeat(np.repeat(coarse, 2, axis=2), 2, axis=3)
        cells = np.concatenate([fine, coarse], axis=1)[0].transpose(1, 2, 0)
        return FeatureGrid(np.ascontiguousarray(cells, np.float32), grid_w / width, grid_h / height, image=rgb)

    def maps(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (n, 112, h/16, w/16) and (n, 320, h/32, w/32) maps of an (n, 3, h, w) batch of `lite_tensor`s."""
        fine, coarse = self._session.run(None, {self._input_name: np.ascontiguousarray(batch, np.float32)})
        return fine, coarse



@dataclass(frozen=True)
class TrainingBox:
    label_index: int
    left: float  # pixels of the image
    top: float
    width: float
    height: float


def cell_centres(grid: FeatureGrid) -> tuple[np.ndarray, np.ndarray]:
    """(gh, gw) x and y of each cell's centre, in grid-input pixels."""
    rows, columns = np.mgrid[0 : grid.cells.shape[0], 0 : grid.cells.shape[1]]
    return (columns + 0.5) * grid.stride_px, (rows + 0.5) * grid.stride_px


def cell_targets(grid: FeatureGrid, boxes: Sequence[TrainingBox]) -> tuple[np.ndarray, np.ndarray]:
    """(gh, gw) int: 0 background, -1 ignored, i + 1 centre of a box of label i; (gh, gw, 4) box targets."""
    centre_x, centre_y = cell_centres(grid)
    stride = grid.stride_px
    classes = np.zeros(centre_x.shape, np.int32)
    targets = np.zeros((*centre_x.shape, 4), np.float32)
    for box in sorted(boxes, key=lambda item: -item.width * item.height):  # small boxes win shared cells
        x0, y0 = box.left * grid.scale_x, box.top * grid.scale_y
        x1, y1 = x0 + box.width * grid.scale_x, y0 + box.height * grid.scale_y
        inside = (centre_x >= x0) & (centre_x <= x1) & (centre_y >= y0) & (centre_y <= y1)
        classes[inside & (classes == 0)] = -1
        mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
        core = (np.abs(centre_x - mid_x) <= max((x1 - x0) / 4, stride / 2)) & (
            np.abs(centre_y - mid_y) <= max((y1 - y0) / 4, stride / 2)
        )
        classes[core] = box.label_index + 1
        targets[core] = np.stack([
            (mid_x - centre_x[core]) / stride, (mid_y - centre_y[core]) / stride,
            np.full(core.sum(), np.log((x1 - x0) / stride)), np.full(core.sum(), np.log((y1 - y0) / stride)),
        ], axis=-1)
    return classes, targets


@dataclass(frozen=True)
class BoxHead:
    """Cell centres → box offsets and log sizes: `(x - mean) / scale @ weights + bias` gives (n, 4)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (d, 4)
    bias: np.ndarray  # (4,)

    def predict(self, cells: np.ndarray) -> np.ndarray:
        return np.asarray(((cells - self.mean) / self.scale) @ self.weights + self.bias)


@dataclass(frozen=True)
class DetectionHeads:
    classes: LinearHeads  # one head per label: "this cell is the centre of an object of the label"
    boxes: BoxHead


def fit_detection(
    grids: Sequence[FeatureGrid], boxes: Sequence[Sequence[TrainingBox]], label_count: int, *,
    c: float = DETECTION_HEAD_C, ridge_alpha: float = BOX_RIDGE_ALPHA, max_negative_cells: int = MAX_NEGATIVE_CELLS,
) -> DetectionHeads:
    """Fit the cell heads and the box regression on training images' grids and boxes (defaults: Custom Labels')."""
    rng = np.random.default_rng(0)
    features: list[np.ndarray] = []
    classes: list[np.ndarray] = []
    positive_cells: list[np.ndarray] = []
    box_targets: list[np.ndarray] = []
    for grid, image_boxes in zip(grids, boxes, strict=True):
        cell_classes, targets = cell_targets(grid, image_boxes)
        flat = grid.cells.reshape(-1, grid.cells.shape[2])
        labels = cell_classes.ravel()
        features.append(flat[labels >= 0])
        classes.append(labels[labels >= 0])
        positive_cells.append(flat[labels > 0])
        box_targets.append(targets.reshape(-1, 4)[labels > 0])
    all_features, all_classes = np.concatenate(features), np.concatenate(classes)
    negatives = np.flatnonzero(all_classes == 0)
    if len(negatives) > max_negative_cells:
        dropped = rng.choice(negatives, len(negatives) - max_negative_cells, replace=False)
        keep = np.ones(len(all_classes), bool)
        keep[dropped] = False
        all_features, all_classes = all_features[keep], all_classes[keep]
    targets = np.stack([all_classes == index + 1 for index in range(label_count)], axis=1)
    cell_heads = fit_heads(all_features, targets, c=c, balanced=False)
    positives = np.concatenate(positive_cells)
    mean, scale = positives.mean(axis=0), positives.std(axis=0) + 1e-6
    from sklearn.linear_model import Ridge  # only training needs it: 1.7 s off every server start

    ridge = Ridge(alpha=ridge_alpha).fit((positives - mean) / scale, np.concatenate(box_targets))
    box_head = BoxHead(mean.astype(np.float32), scale.astype(np.float32), ridge.coef_.T.astype(np.float32),
                       ridge.intercept_.astype(np.float32))
    return DetectionHeads(cell_heads, box_head)


@dataclass(frozen=True)
class FoundBoxes:
    """Boxes of one label: (m, 4) xyxy in image pixels and (m,) probabilities, best first."""

    label_index: int
    boxes: np.ndarray
    scores: np.ndarray


def find_boxes(heads: DetectionHeads, grid: FeatureGrid, floor: float = CANDIDATE_FLOOR) -> list[FoundBoxes]:
    """Every label's boxes scoring at least `floor`, after non-maximum suppression with box voting."""
    flat = grid.cells.reshape(-1, grid.cells.shape[2])
    probabilities = heads.classes.probabilities(flat)
    centre_x, centre_y = (values.ravel() for values in cell_centres(grid))
    found: list[FoundBoxes] = []
    for label_index in range(probabilities.shape[1]):
        cells = np.flatnonzero(probabilities[:, label_index] >= floor)
        if not len(cells):
            continue
        offsets = heads.boxes.predict(flat[cells])
        stride = grid.stride_px
        mid_x = centre_x[cells] + offsets[:, 0] * stride
        mid_y = centre_y[cells] + offsets[:, 1] * stride
        half_w = np.exp(np.clip(offsets[:, 2], -3, 6)) * stride / 2
        half_h = np.exp(np.clip(offsets[:, 3], -3, 6)) * stride / 2
        boxes = np.stack([
            (mid_x - half_w) / grid.scale_x, (mid_y - half_h) / grid.scale_y,
            (mid_x + half_w) / grid.scale_x, (mid_y + half_h) / grid.scale_y,
        ], axis=1)
        kept_boxes, kept_scores = suppress_and_vote(boxes, probabilities[cells, label_index])
        found.append(FoundBoxes(label_index, kept_boxes, kept_scores))
    return found


def suppress_and_vote(boxes: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy NMS; each kept box becomes the score-weighted mean of itself and the boxes it suppressed."""
    from reko.vision.training.metrics import box_iou

    order = np.argsort(-scores, kind="stable")
    alive = np.ones(len(boxes), bool)
    kept_boxes: list[np.ndarray] = []
    kept_scores: list[float] = []
    for index in order:
        if not alive[index]:
            continue
        overlaps = box_iou(boxes[index], boxes)
        group = alive & (overlaps >= NMS_IOU)
        group[index] = True
        weights = scores[group]
        kept_boxes.append((boxes[group] * weights[:, None]).sum(axis=0) / weights.sum())
        kept_scores.append(float(scores[index]))
        alive &= ~group
        if len(kept_boxes) == MAX_BOXES:
            break
    return np.array(kept_boxes, np.float32).reshape(-1, 4), np.array(kept_scores, np.float32)
