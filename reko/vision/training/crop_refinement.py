"""The third stage of Custom Labels object detection: each object the first two find, looked at through its own crop.

The first two stages read one feature map of the whole image, where a 20-40 px head spans two or three 16 px cells.
Here the second stage's boxes are first pooled over labels (`pool`: greedily by score, a box takes in every box of
any label overlapping it at IoU >= `POOL_IOU`, so one object is looked at once whichever labels proposed it), and
the `MAX_CROPPED_BOXES` best are cut out as squares `CROP_CONTEXT` times their longer side, scaled to `CROP_SIDE_PX`
and passed through the same frozen backbone (`FeatureMaps.maps`), each as it is and mirrored: the object now fills
its crop whatever its size, and the crop's stride-16 map (6 x 6 x 112) says where its edges lie. The descriptor is
that map flattened, the mean of the stride-32 map (320) and the box's log width and height in 16 px units of the
image (4,354 numbers). One softmax over background and the labels says what the box is (its class in training:
the label of the true box it overlaps at IoU >= 0.5, else background), one ridge regression moves it
(`box_refinement.box_deltas`); both are fitted on both views of the pooled boxes of the training images, and at
serving a box's probabilities and moves are the means over its two views. A box's score for a label is the
geometric mean of the label's probability and the label's second-stage score for it (at least `CANDIDATE_FLOOR`);
each label's boxes are suppressed again.

Why one softmax: a bare head and a helmeted head are the same object to both labels' first stages, and with one
logistic head a label (format 4, `crop_refine`) the label with six times the training boxes won both; the softmax
makes the labels compete for the box, and background competes with both. Two limits follow: an object is one
label here, so labels drawn on the same box (a "car" that is also a "red car") cannot both be learnt — the later
label is never a box's class, and the detector then keeps two stages (`fit_crop_stage` returns None); and the
mirror assumes a label reads the same mirrored, as the classifier's training views do (not so for "left arrow").

Measured by `scripts/measure_custom_label_detection.py` (3-fold CV inside the 80 training photos of
hard_hat_workers under three fold assignments; the 20 held-back photos unread), macro F1 at IoU 0.5 at the
F1-best thresholds. Two stages 0.594 (0.616 / 0.598 / 0.569). Format 4 (each label's 20 strongest boxes, a logistic
head a label, no mirror): 0.662 (0.703 / 0.641 / 0.641). Pooled boxes and the softmax alone 0.672, the mirror alone
(fitting and judging) 0.670, both 0.698 (0.726 / 0.697 / 0.671; helmets and heads up on every assignment); with the
crops aligned to pixel centres (a mirrored photo's crop is then exactly the mirror of the crop) 0.695. Left within
the noise: softmax C 0.02 / 0.15 (0.695 / 0.701), pooling at IoU 0.5 (0.701), 30 boxes (0.699), the boxes moved
twice (re-cropped where the first move put them: 0.698; with both passes' probabilities averaged 0.701). Worse:
the softmax probability alone as the score (0.658, no mirror), class-balanced (0.665, no mirror); each second-stage
box also offered at 0.6x its size (0.684) or at 0.5x and 0.75x (0.682); each pooled box also offered to this stage
at 0.65x (30 objects: 0.661) or at 0.65x and 1.5x (40 objects: 0.671). Cost: one backbone pass over up to 40 crops
of 96 px an image.

Chosen for format 4 on the same folds and kept: context 1.15 (1.0: 0.657, 1.3: 0.656, 1.6: 0.647, 2.0: 0.634); 96 px
crops (64: 0.627 and 128: 0.637 at context 1.6, against 0.647); 20 boxes (12: 0.622, 30: 0.645 at context 1.6); the
stride-16 map kept whole (its mean instead: 0.598; the stride-32 map whole too: 0.635); head C and ridge alpha as
the second stage's (C 0.02 / 0.15: 0.649 / 0.645; alpha 1000 / 10000: 0.655 / 0.651). Tried for format 4 and left:
a second crop stage 0.662; fitting on mirrored photos (the whole pipeline) 0.663, or on jittered copies of the true
boxes 0.659-0.666; the image-map descriptor beside the crop's 0.637; the first two stages' NMS at IoU 0.5 (0.647 /
0.658); longer sides 768 / 832 0.649 / 0.661; sizes stretched back by a line fitted out of fold (0.645) or from
log-size bins (0.638); dropping a box that overlaps a better box of another label 0.605; fitting on out-of-fold
candidates 0.656 (with the in-sample ones too 0.668, for twice the training time); each box's moves from a map of
how much of each crop cell the object covers (one ridge shared by the 36 cells) 0.669-0.672. Also tried with this
stage: COCO SSDLite's MobileNetV2 maps (`coco-ssd`, detection-trained) instead of Lite0's for every stage 0.610,
beside Lite0's 0.687 (helmets +0.03, heads -0.04, for a second backbone pass); the first stage's size columns at
ridge alpha 300 / 1000 (0.641 / 0.659), class-balanced (0.619) or with a floor of 0.003 (0.658); the first two
stages on an 8 px grid (Lite0's stride-8 map beside the others, 472 numbers a cell) 0.660; this stage fitted on
out-of-fold candidates too (the first two stages refitted without each of 3 inner folds) 0.694, for 2.5 times the
fitting time.

What limits detection now is proposing the objects at all: on those folds the final boxes, at any score, match 74 %
of helmets at IoU 0.5 (85 % at 0.3) and of the 44 helmets with no box even at IoU 0.3, 36 are under 30 px; on the
held-back photos, at any score, 70 % of helmets and 72 % of bare heads are matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from reko.vision.image_features import COARSE_MAP_CHANNELS, FINE_MAP_CHANNELS
from reko.vision.labels.classifier import lite_tensor
from reko.vision.training.box_refinement import (
    REFINE_HEAD_C,
    REGRESSION_MIN_IOU,
    Refiner,
    box_deltas,
    fit_box_head,
    moved_boxes,
    refine,
    true_boxes,
)
from reko.vision.training.detection import (
    CANDIDATE_FLOOR,
    STRIDE_PX,
    BoxHead,
    FeatureGrid,
    FeatureMaps,
    FoundBoxes,
    TrainingBox,
    suppress_and_vote,
)
from reko.vision.training.heads import SoftmaxHead, fit_softmax_head
from reko.vision.training.metrics import MATCH_IOU, box_iou

CROP_SIDE_PX = 96
CROP_CONTEXT = 1.15  # the crop's side, as a multiple of the box's longer side
MAX_CROPPED_BOXES = 20  # an image's best boxes, over all labels, that this stage looks at; the rest are dropped
POOL_IOU = 0.7  # boxes of different labels overlapping this much are one object's, looked at once
CROP_BATCH = 32
CROP_DESCRIPTOR_DIMENSIONS = FINE_MAP_CHANNELS * (CROP_SIDE_PX // STRIDE_PX) ** 2 + COARSE_MAP_CHANNELS + 2


@dataclass(frozen=True)
class CropStage:
    """The third stage since format 5: one softmax over background and the labels (`classes`, columns in that
    order) and one box regression (`boxes`, `box_refinement.box_deltas`), both on crop descriptors."""

    classes: SoftmaxHead
    boxes: BoxHead

    @property
    def label_count(self) -> int:
        return int(self.classes.weights.shape[1]) - 1


@dataclass(frozen=True)
class PooledBoxes:
    """An image's candidate objects over all labels: (m, 4) xyxy boxes, best first, and (m, k) each label's
    second-stage score for the box (0 where the label did not propose it)."""

    boxes: np.ndarray
    scores: np.ndarray


def crop_descriptors(
    feature_maps: FeatureMaps, rgb: np.ndarray, boxes: np.ndarray, mirrored: bool = False
) -> np.ndarray:
    """(m, CROP_DESCRIPTOR_DIMENSIONS) float32 descriptors of (m, 4) xyxy image-pixel boxes of `rgb`; of the crops
    flipped left to right when `mirrored`."""
    if not len(boxes):
        return np.zeros((0, CROP_DESCRIPTOR_DIMENSIONS), np.float32)
    crops = np.stack([lite_tensor(_crop(rgb, box)[:, ::-1] if mirrored else _crop(rgb, box)) for box in boxes])
    described: list[np.ndarray] = []
    for start in range(0, len(crops), CROP_BATCH):
        fine, coarse = feature_maps.maps(crops[start : start + CROP_BATCH])
        described.append(np.concatenate([fine.reshape(len(fine), -1), coarse.mean(axis=(2, 3))], axis=1))
    sizes = np.log(np.maximum(np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1), 1.0)
                   / STRIDE_PX)
    return np.concatenate([np.concatenate(described), sizes], axis=1).astype(np.float32)


def _crop(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The square around the box's centre, `CROP_CONTEXT` times its longer side, scaled to `CROP_SIDE_PX`; parts
    outside the image repeat its edge. Boxes count pixel edges (pixel i spans i..i+1), OpenCV pixel centres: the
    half-pixel terms make the crop of a mirrored photo the mirror of the crop."""
    x0, y0, x1, y1 = (float(value) for value in box)
    half = max(x1 - x0, y1 - y0, 1.0) * CROP_CONTEXT / 2
    factor = CROP_SIDE_PX / (2 * half)
    left, top = (x0 + x1) / 2 - half, (y0 + y1) / 2 - half
    warp = np.array([[factor, 0, factor * (0.5 - left) - 0.5], [0, factor, factor * (0.5 - top) - 0.5]], np.float32)
    return cv2.warpAffine(rgb, warp, (CROP_SIDE_PX, CROP_SIDE_PX), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _image(grid: FeatureGrid) -> np.ndarray:
    if grid.image is None:
        raise ValueError("the crop stage needs the image the grid was computed from (FeatureMaps.describe)")
    return grid.image


def mirrored_deltas(deltas: np.ndarray) -> np.ndarray:
    """`box_deltas` of a mirrored crop read back in the image (the centre moves the other way)."""
    return deltas * np.array([-1.0, 1.0, 1.0, 1.0], np.float32)


def pool(candidates: Sequence[FoundBoxes], label_count: int, count: int = MAX_CROPPED_BOXES) -> PooledBoxes:
    """The `count` best objects over all labels: greedily by score, a box takes in every box of any label that
    overlaps it at `POOL_IOU` or more, and keeps each label's best score among them."""
    groups = [group for group in candidates if len(group.boxes)]
    if not groups:
        return PooledBoxes(np.zeros((0, 4), np.float32), np.zeros((0, label_count), np.float32))
    boxes = np.concatenate([group.boxes for group in groups])
    scores = np.concatenate([group.scores for group in groups])
    labels = np.concatenate([np.full(len(group.boxes), group.label_index) for group in groups])
    alive = np.ones(len(boxes), bool)
    kept_boxes: list[np.ndarray] = []
    kept_scores: list[np.ndarray] = []
    for index in np.argsort(-scores, kind="stable"):
        if not alive[index]:
            continue
        taken = alive & (box_iou(boxes[index], boxes) >= POOL_IOU)
        taken[index] = True
        per_label = np.zeros(label_count, np.float32)
        np.maximum.at(per_label, labels[taken], scores[taken])
        kept_boxes.append(boxes[index])
        kept_scores.append(per_label)
        alive &= ~taken
        if len(kept_boxes) == count:
            break
    return PooledBoxes(np.array(kept_boxes, np.float32), np.array(kept_scores, np.float32))


def _nearest_truth(
    boxes: np.ndarray, image_boxes: Sequence[TrainingBox], label_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For (m, 4) boxes: the class each should get (0 background, label + 1 when it overlaps a true box of the
    label at IoU >= 0.5), the true box of any label it overlaps most, and that IoU."""
    classes = np.zeros(len(boxes), int)
    best = np.zeros(len(boxes))
    nearest = np.zeros((len(boxes), 4), np.float32)
    for label_index in range(label_count):
        truth = true_boxes(image_boxes, label_index)
        if not len(truth):
            continue
        overlaps = np.stack([box_iou(box, truth) for box in boxes])
        closest = overlaps.max(axis=1)
        closer = closest > best
        best[closer] = closest[closer]
        nearest[closer] = truth[overlaps.argmax(axis=1)][closer]
        classes[closer] = np.where(closest[closer] >= MATCH_IOU, label_index + 1, 0)
    return classes, nearest, best


def fit_crop_stage(
    grids: Sequence[FeatureGrid], boxes: Sequence[Sequence[TrainingBox]],
    candidates: Sequence[Sequence[FoundBoxes]], label_count: int, feature_maps: FeatureMaps,
) -> CropStage | None:
    """The third stage, fitted on the pooled second-stage boxes of the training images, each crop seen as it is and
    mirrored; None (the detector keeps two stages) when the boxes cannot teach every label: no box near a true box,
    or a label none of the boxes matches."""
    descriptors: list[np.ndarray] = []
    classes: list[np.ndarray] = []
    moved: list[np.ndarray] = []
    deltas: list[np.ndarray] = []
    for grid, image_boxes, found in zip(grids, boxes, candidates, strict=True):
        pooled = pool(found, label_count)
        if not len(pooled.boxes):
            continue
        box_classes, nearest, best = _nearest_truth(pooled.boxes, image_boxes, label_count)
        close = best >= REGRESSION_MIN_IOU
        true_deltas = box_deltas(pooled.boxes[close], nearest[close]).astype(np.float32)
        for mirrored in (False, True):
            described = crop_descriptors(feature_maps, _image(grid), pooled.boxes, mirrored)
            descriptors.append(described)
            classes.append(box_classes)
            moved.append(described[close])
            deltas.append(mirrored_deltas(true_deltas) if mirrored else true_deltas)
    all_classes = np.concatenate(classes) if classes else np.zeros(0, int)
    if len(np.unique(all_classes)) < label_count + 1 or not sum(len(part) for part in moved):
        return None
    head = fit_softmax_head(np.concatenate(descriptors), all_classes, label_count + 1, c=REFINE_HEAD_C)
    return CropStage(head, fit_box_head(np.concatenate(moved), np.concatenate(deltas)))


def find_in_crops(
    stage: CropStage, grid: FeatureGrid, candidates: Sequence[FoundBoxes], floor: float, feature_maps: FeatureMaps,
) -> list[FoundBoxes]:
    """The image's pooled objects judged on their crops (the mean over each crop and its mirror), moved, scored
    for each label (geometric mean of the label's probability and its second-stage score, at least
    `CANDIDATE_FLOOR`), suppressed again per label and cut at `floor`."""
    pooled = pool(candidates, stage.label_count)
    if not len(pooled.boxes):
        return []
    probabilities = np.zeros((len(pooled.boxes), stage.label_count + 1))
    deltas = np.zeros((len(pooled.boxes), 4))
    for mirrored in (False, True):
        described = crop_descriptors(feature_maps, _image(grid), pooled.boxes, mirrored)
        probabilities += stage.classes.probabilities(described) / 2
        moves = stage.boxes.predict(described)
        deltas += (mirrored_deltas(moves) if mirrored else moves) / 2
    boxes = moved_boxes(pooled.boxes, deltas)
    found: list[FoundBoxes] = []
    for label_index in range(stage.label_count):
        scores = np.sqrt(probabilities[:, label_index + 1] * np.maximum(pooled.scores[:, label_index],
                                                                        CANDIDATE_FLOOR))
        kept_boxes, kept_scores = suppress_and_vote(boxes, scores.astype(np.float32))
        keep = kept_scores >= floor
        if keep.any():
            found.append(FoundBoxes(label_index, kept_boxes[keep], kept_scores[keep]))
    return found


def strongest(candidates: Sequence[FoundBoxes], count: int = MAX_CROPPED_BOXES) -> list[FoundBoxes]:
    """The `count` best-scored boxes of an image over all labels (ties at the cut kept), grouped as given."""
    scores = np.sort(np.concatenate([group.scores for group in candidates] or [np.zeros(0)]))[::-1]
    if len(scores) <= count:
        return list(candidates)
    cut = scores[count - 1]
    return [FoundBoxes(group.label_index, group.boxes[keep], group.scores[keep])
            for group in candidates if (keep := group.scores >= cut).any()]


def crop_refine(
    refiner: Refiner, grid: FeatureGrid, candidates: Sequence[FoundBoxes], floor: float, feature_maps: FeatureMaps,
) -> list[FoundBoxes]:
    """Format 4's third stage (per-label heads, `box_refinement.refine` on crop descriptors, no mirror): the
    strongest candidates moved, rescored, suppressed again and cut at `floor`."""
    def describe(grid: FeatureGrid, boxes: np.ndarray) -> np.ndarray:
        return crop_descriptors(feature_maps, _image(grid), boxes)

    return refine(refiner, grid, strongest(candidates), floor, describe)
