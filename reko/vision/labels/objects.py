"""Finding objects with boxes: the COCO SSD (80 classes) run through ONNX Runtime, optionally on tiles."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from reko.vision.boxes import non_maximum_suppression, weighted_box_fusion
from reko.vision.runtime import Runtime

SSD_INPUT_PX = 300  # the graph resizes whatever it is fed to 300x300 itself
# Larger photos are shrunk (area interpolation) before they are fed: the graph's own bilinear resize of a
# 12 MP photo costs more than the network and aliases; 1280 px is over 4x the network's side, so nothing is lost.
MAX_FEED_SIDE_PX = 1280
# A box from a tile within this many pixels of an edge the tile shares with its neighbours is a cut-off
# object; the full-image pass or the neighbouring tile sees it whole. Keeping such boxes cost 0.044 person AP50
# (2x2 tiles). They are dropped after the tile's own NMS, so a cut-off box also takes its weaker duplicates
# with it: 0.639 against 0.626 when dropped before (2x2 tiles of 0.6; 3x3 of 0.5: 0.652 against 0.641).
TILE_EDGE_MARGIN_PX = 2.0

# Low enough to keep the precision-recall curve's tail (person AP50 the same at 0.01 and 0.05 for every tiling
# on the COCO subset), high enough to keep the candidate count small; callers raise it to report objects.
DEFAULT_SCORE_THRESHOLD = 0.05
DEFAULT_NMS_IOU = 0.5  # per class, as the TF Object Detection API's SSD configs post-process
# When tiles ran, the passes' boxes are fused (`boxes.weighted_box_fusion`, per class) instead of suppressed.
# Person AP50 on the even images of coco_val2017_first128 with DetectLabels' adaptive 2x2 tiles (chosen there;
# the odd images are held out, numbers in the README): NMS 0.589; fusion at IoU 0.5 / 0.55 / 0.6: 0.600 / 0.610 /
# 0.608 (noisy-or scores) and 0.601 / 0.604 / 0.606 (the best member's score instead); 0.612 with the last NMS
# of `_fused`. Held-out odd images: 0.711 against 0.719 with NMS, so the gain is not confirmed there. Grouping
# as NMS does (box voting) instead scored 0.615 on the even images but 0.698 on the odd ones (seen after the
# choice; not taken). Cost on the tiled living-room photo (486 candidates): 18 ms of CPU against 7 ms for NMS.
DEFAULT_FUSION_IOU: float | None = 0.55
DEFAULT_MAX_OBJECTS = 100
# Tiles: `tile_grid` x `tile_grid` overlapping crops, each `tile_fraction` of the image's width and height,
# searched besides the whole image. Measured on coco_val2017_first128 (bench/labels_models.py; tuned there):
# person AP50 0.581 with none (1 pass), 0.639 with 2x2 at 0.6 (5 passes), 0.652 with 3x3 at 0.5 (10 passes);
# each pass costs about one whole-image pass (~21 ms on 2 idle cores).
DEFAULT_TILE_GRID = 0
DEFAULT_TILE_FRACTION = 0.5


@dataclass(frozen=True)
class DetectedObjects:
    """Objects found in one image, best first.

    Attributes:
        boxes: (n, 4) float32 xyxy in pixels of the image that was searched, clipped to it.
        scores: (n,) float32 detector confidence in [0, 1] (the SSD's sigmoid class score).
        class_names: n COCO class names ("person", "dining table").
    """

    boxes: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.boxes)
        if self.boxes.shape != (n, 4) or self.scores.shape != (n,) or len(self.class_names) != n:
            raise ValueError(
                f"inconsistent object arrays: boxes {self.boxes.shape}, scores {self.scores.shape}, "
                f"{len(self.class_names)} class names"
            )

    def __len__(self) -> int:
        return len(self.boxes)

    def take(self, indices: np.ndarray) -> DetectedObjects:
        """The objects at `indices`, in that order."""
        return DetectedObjects(
            boxes=self.boxes[indices],
            scores=self.scores[indices],
            class_names=tuple(self.class_names[int(i)] for i in indices),
        )

    @classmethod
    def empty(cls) -> DetectedObjects:
        return cls(boxes=np.zeros((0, 4), np.float32), scores=np.zeros((0,), np.float32), class_names=())


@dataclass(frozen=True)
class _Candidates:
    """Score-thresholded (anchor, class) pairs of one or more passes, before NMS."""

    boxes: np.ndarray  # (n, 4) float32 xyxy pixels of the whole image
    scores: np.ndarray  # (n,) float32
    columns: np.ndarray  # (n,) int64 score column (COCO category id - 1)


class ObjectDetector:
    """Boxes of the 80 COCO classes from an SSDLite MobileNetV2 (TensorFlow.js `coco-ssd`, converted to ONNX).

    The network sees a 300x300 version of whatever it is fed (the resize and the [-1, 1] scaling are inside the
    graph, as trained), so objects under ~30 px in a 640x480 photo shrink below what its coarsest anchors catch:
    recall of people under 32 px tall is 16 % on the COCO subset. Tiling works around that: each tile is fed
    on its own, so it is enlarged 1/`tile_fraction` times relative to the whole image. Each pass gets its own
    per-class NMS, tile boxes that touch an inner tile edge are then dropped (cut-off objects), and the passes
    are merged by per-class weighted box fusion (`fusion_iou`; or a last per-class NMS).

    The graph runs one image per call; batching tiles is slower in ONNX Runtime (its resize Loop runs per
    image: 74 ms for a batch of 2 against 2 x 21 ms), so tiles are run one after the other.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        nms_iou: float = DEFAULT_NMS_IOU,
        max_objects: int = DEFAULT_MAX_OBJECTS,
        tile_grid: int = DEFAULT_TILE_GRID,
        tile_fraction: float = DEFAULT_TILE_FRACTION,
        fusion_iou: float | None = DEFAULT_FUSION_IOU,
    ) -> None:
        """Set the detection knobs.

        Args:
            score_threshold: minimum class score to keep a box.
            nms_iou: overlap above which the lower-scored of two boxes of one class is dropped.
            max_objects: most objects returned, best first.
            tile_grid: tiles per side searched besides the whole image; 0 or 1 searches the whole image only.
            tile_fraction: a tile's width and height as a fraction of the image's, in (0, 1].
            fusion_iou: overlap at which the boxes of several passes are fused into one; None merges the passes
                by NMS at `nms_iou` instead. A single pass is always suppressed by NMS.
        """
        if not 0 < tile_fraction <= 1:
            raise ValueError(f"tile_fraction must be in (0, 1], got {tile_fraction}")
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.max_objects = max_objects
        self.tile_grid = tile_grid
        self.tile_fraction = tile_fraction
        self.fusion_iou = fusion_iou
        self._session = runtime.session("object-detector")
        self._input_name = self._session.get_inputs()[0].name
        columns = json.loads(runtime.model_path("object-detector-classes").read_text())
        self._column_names: list[str | None] = columns
        self._named_columns = np.array([name is not None for name in columns])

    @property
    def class_names(self) -> tuple[str, ...]:
        """Every class the detector can report, in COCO category order."""
        return tuple(name for name in self._column_names if name is not None)

    def find_objects(
        self, rgb: np.ndarray, tile_when: Callable[[DetectedObjects], bool] | None = None
    ) -> DetectedObjects:
        """Find the objects of an image.

        Args:
            rgb: (H, W, 3) uint8 RGB image.
            tile_when: None searches the tiles (if `tile_grid` > 1) always; otherwise they are searched only
                when it returns True for the whole-image pass's objects, so a photo that needs no tiles costs
                one pass.

        Returns:
            At most `max_objects` objects sorted by descending score, in the input image's pixels.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
        height, width = rgb.shape[:2]
        passes = [self._candidates(rgb, 0, 0, inner_edges=(False, False, False, False))]
        if tile_when is not None:
            whole = self._suppressed(passes[0], height, width)
            if not tile_when(whole):
                return whole
        for top, left, tile_height, tile_width in self._tiles(height, width):
            tile = rgb[top : top + tile_height, left : left + tile_width]
            inner = (left > 0, top > 0, left + tile_width < width, top + tile_height < height)
            passes.append(self._candidates(tile, left, top, inner_edges=inner))
        merged = _Candidates(
            boxes=np.concatenate([found.boxes for found in passes]),
            scores=np.concatenate([found.scores for found in passes]),
            columns=np.concatenate([found.columns for found in passes]),
        )
        if self.fusion_iou is None:
            return self._suppressed(merged, height, width)
        return self._fused(merged, height, width, self.fusion_iou)

    def _tiles(self, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """(top, left, height, width) of each tile: a regular grid whose outer tiles touch the image's edges."""
        if self.tile_grid <= 1:
            return []
        tile_height, tile_width = round(height * self.tile_fraction), round(width * self.tile_fraction)
        tops = np.linspace(0, height - tile_height, self.tile_grid).round().astype(int)
        lefts = np.linspace(0, width - tile_width, self.tile_grid).round().astype(int)
        return [(int(top), int(left), tile_height, tile_width) for top in tops for left in lefts]

    def _candidates(
        self, rgb: np.ndarray, left: int, top: int, inner_edges: tuple[bool, bool, bool, bool]
    ) -> _Candidates:
        """One SSD pass on `rgb` (the image or a tile at (left, top)); boxes in the whole image's pixels.

        `inner_edges` says which of the tile's left, top, right, bottom edges lie inside the image: boxes
        touching those are dropped.
        """
        height, width = rgb.shape[:2]
        feed = _shrunk(rgb, MAX_FEED_SIDE_PX)
        scores, boxes = self._session.run(None, {self._input_name: feed[None]})
        scores = scores[0] * self._named_columns  # the ten unused COCO ids never score
        anchors, columns = np.nonzero(scores >= self.score_threshold)
        # The graph's boxes are normalised [ymin, xmin, ymax, xmax] of what it was fed, i.e. of `rgb`.
        normalised = boxes[0, anchors, 0, :]
        found = np.stack(
            [normalised[:, 1] * width, normalised[:, 0] * height, normalised[:, 3] * width, normalised[:, 2] * height],
            axis=1,
        ).astype(np.float32)
        found_scores = scores[anchors, columns].astype(np.float32)
        keep = _per_class_nms(found, found_scores, columns, self.nms_iou)
        keep = keep[~_touches(found[keep], width, height, inner_edges)]
        return _Candidates(
            boxes=found[keep] + np.array([left, top, left, top], np.float32),
            scores=found_scores[keep],
            columns=columns[keep].astype(np.int64),
        )

    def _suppressed(self, found: _Candidates, height: int, width: int) -> DetectedObjects:
        """Boxes clipped to the image, then per-class NMS over every pass, best first, at most `max_objects`."""
        boxes = np.clip(found.boxes, 0, np.array([width, height, width, height], np.float32))
        indices = _per_class_nms(boxes, found.scores, found.columns, self.nms_iou)
        indices = indices[np.argsort(-found.scores[indices], kind="stable")][: self.max_objects]
        names = tuple(str(self._column_names[int(column)]) for column in found.columns[indices])
        return DetectedObjects(boxes=boxes[indices], scores=found.scores[indices], class_names=names)

    def _fused(self, found: _Candidates, height: int, width: int, iou_threshold: float) -> DetectedObjects:
        """Boxes clipped to the image, fused per class over every pass (then NMS), best first, at most `max_objects`."""
        clipped = np.clip(found.boxes, 0, np.array([width, height, width, height], np.float32))
        boxes, scores, columns = [np.zeros((0, 4), np.float32)], [np.zeros(0, np.float32)], [np.zeros(0, np.int64)]
        for column in np.unique(found.columns):
            members = np.flatnonzero(found.columns == column)
            fused, fused_scores = weighted_box_fusion(clipped[members], found.scores[members], iou_threshold)
            # Fused boxes move, so two may end up overlapping beyond the threshold: the weaker goes (person
            # AP50 on the even images 0.612 with this, 0.610 without).
            keep = non_maximum_suppression(fused, fused_scores, iou_threshold)
            boxes.append(fused[keep])
            scores.append(fused_scores[keep])
            columns.append(np.full(len(keep), column, np.int64))
        merged = _Candidates(np.concatenate(boxes), np.concatenate(scores), np.concatenate(columns))
        order = np.argsort(-merged.scores, kind="stable")[: self.max_objects]
        names = tuple(str(self._column_names[int(column)]) for column in merged.columns[order])
        return DetectedObjects(boxes=merged.boxes[order], scores=merged.scores[order], class_names=names)


def _per_class_nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy NMS run separately on each class's boxes (in class order, best first within)."""
    kept = [np.zeros(0, np.int64)]
    for value in np.unique(classes):
        members = np.flatnonzero(classes == value)
        kept.append(members[non_maximum_suppression(boxes[members], scores[members], iou_threshold)])
    return np.concatenate(kept)


def _shrunk(rgb: np.ndarray, max_side_px: int) -> np.ndarray:
    """The image with its longer side at most `max_side_px` (area interpolation); unchanged when smaller."""
    height, width = rgb.shape[:2]
    scale = max_side_px / max(height, width)
    if scale >= 1:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _touches(boxes: np.ndarray, width: int, height: int, edges: tuple[bool, bool, bool, bool]) -> np.ndarray:
    """(n,) bool: the box reaches within TILE_EDGE_MARGIN_PX of one of the flagged left/top/right/bottom edges."""
    left, top, right, bottom = edges
    margin = TILE_EDGE_MARGIN_PX
    return (
        (left & (boxes[:, 0] < margin))
        | (top & (boxes[:, 1] < margin))
        | (right & (boxes[:, 2] > width - margin))
        | (bottom & (boxes[:, 3] > height - margin))
    )
