"""Finding heads (with or without a hard hat, seen from any side): two small detectors built from YuNet, fused.

No registry package ships a head detector, and faces and COCO persons miss most workers of a building site (small,
crowded, seen from behind: 48 % of the hard-hat reporting half's heads were found from faces and the pose alone).
YuNet, the face detector, is fully convolutional and its maps respond to heads, so its inner maps (the prepared
`head-feature-maps`, four maps of 64 channels read at stride 8: 256 numbers an 8 px cell) feed the same
CenterNet-like head Custom Labels trains on Lite0's maps (`reko/vision/training/detection.py`): a logistic cell
head says "this cell is a head's centre", a ridge regression gives each cell's box, and non-maximum suppression
with box voting keeps one box a head. `scripts/train_head_detector.py` fits it on the hard-hat training half
(`reko/vision/models/ppe-heads.npz.md`); a box's confidence is the measured probability that it matches a real
head (IoU >= 0.4), a curve fitted on out-of-fold detections there.

A second detector sees the same input: YuNet itself, fine-tuned on the same heads by the same script
(`scripts/finetune_yunet_heads.py`, PyTorch at training time only; `ppe-head-yunet.onnx.md`), decoded as faces
are. Alone it is no better than the cell head (it overfits 40-50 photos), but the two err differently: `agree`
scores each head by the mean of both detectors' probabilities on it, and a second curve (`fused_curve`, fitted
on the fused out-of-fold detections) turns that into the reported confidence.

The image is described with its longer side at `HEAD_WORKING_SIDE_PX`: the hard-hat photos (416 px) enlarged
twice, so a 15 px head spans ~4 cells (grouped 5-fold on the training half, head AP at IoU 0.4: 0.586 at 1x,
0.605 at 1.5x, 0.616 at 2x, from a prototype of the training script). It runs on the pool beside the person
detector, on one thread: 28 ms for a 640x480 photo (832x624) with both detectors on idle cores (14 ms with the
cell head alone; `python -m bench --only ppe`'s heads_ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from reko.vision.boxes import iou_matrix, non_maximum_suppression
from reko.vision.catalog import ModelError
from reko.vision.faces.detector import yunet_boxes, yunet_input
from reko.vision.labels.confidence import LogisticCurve
from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime
from reko.vision.training.detection import BoxHead, DetectionHeads, FeatureGrid, suppress_and_vote
from reko.vision.training.heads import LinearHeads

HEAD_WORKING_SIDE_PX = 832
HEAD_STRIDE_PX = 8  # the finest map; the coarser ones are repeated to it
HEAD_MAP_CHANNELS = 4 * 64
# Cells below this raw score are never decoded. Raw scores saturate (a 50 % head reads 0.999): on the training
# half's out-of-fold detections with a floor of 0.01 (before `drop_centred_inside`), 20 of the 4,014 boxes under
# 0.8 and 13 of 285 from 0.8 to 0.95 matched a real head (a box at 0.95 read 7 %); decoding only cells >= 0.9 takes
# ~1 ms instead of 8.
HEAD_CANDIDATE_FLOOR = 0.9
# The head-tuned YuNet's boxes from this score (sqrt(class x objectness)) are fused; below it they are noise.
TUNED_FLOOR = 0.05
# Two detectors' boxes of one head overlap at least this much (the NMS of `decode`'s first stage uses 0.3 too).
SAME_HEAD_IOU = 0.3


@dataclass(frozen=True)
class Heads:
    """Heads of one image.

    Attributes:
        boxes: (n, 4) float32 xyxy image pixels, most probable first.
        confidence: (n,) float32 measured probability that each box is a real head.
    """

    boxes: np.ndarray
    confidence: np.ndarray

    def __post_init__(self) -> None:
        if self.boxes.shape != (len(self.confidence), 4):
            raise ValueError(f"boxes {self.boxes.shape} do not match {self.confidence.shape} confidences")


@dataclass(frozen=True)
class HeadModel:
    """What `scripts/train_head_detector.py` fits: the cell head and box regression, the confidence curves of
    their boxes (`curve`) and of the head-tuned YuNet's (`tuned_curve`), and that of a fused box (`fused_curve`,
    see `agree`), each fitted on out-of-fold detections."""

    detection: DetectionHeads
    curve: LogisticCurve
    tuned_curve: LogisticCurve  # the head-tuned YuNet's score → P(its box is a real head)
    fused_curve: LogisticCurve

    def to_arrays(self) -> dict[str, np.ndarray]:
        classes, boxes = self.detection.classes, self.detection.boxes
        return {
            "cells.mean": classes.mean, "cells.scale": classes.scale, "cells.weights": classes.weights,
            "cells.bias": classes.bias, "boxes.mean": boxes.mean, "boxes.scale": boxes.scale,
            "boxes.weights": boxes.weights, "boxes.bias": boxes.bias,
            "curve": np.array([self.curve.slope, self.curve.intercept], np.float32),
            "tuned_curve": np.array([self.tuned_curve.slope, self.tuned_curve.intercept], np.float32),
            "fused_curve": np.array([self.fused_curve.slope, self.fused_curve.intercept], np.float32),
        }

    @classmethod
    def load(cls, path: Path) -> HeadModel:
        with np.load(path) as stored:
            classes = LinearHeads(stored["cells.mean"], stored["cells.scale"], stored["cells.weights"],
                                  stored["cells.bias"])
            boxes = BoxHead(stored["boxes.mean"], stored["boxes.scale"], stored["boxes.weights"], stored["boxes.bias"])
            curve = LogisticCurve(*map(float, stored["curve"]))
            if "fused_curve" not in stored or "tuned_curve" not in stored:
                raise ModelError("ppe-heads: no curves for the tuned YuNet; rerun scripts/train_head_detector.py")
            tuned_curve = LogisticCurve(*map(float, stored["tuned_curve"]))
            fused_curve = LogisticCurve(*map(float, stored["fused_curve"]))
        if classes.weights.shape != (HEAD_MAP_CHANNELS, 1) or boxes.weights.shape != (HEAD_MAP_CHANNELS, 4):
            raise ModelError("ppe-heads: fitted on other features; rerun scripts/train_head_detector.py")
        return cls(DetectionHeads(classes, boxes), curve, tuned_curve, fused_curve)


@dataclass(frozen=True)
class MapsOfImage:
    """YuNet's four inner maps of one image: (64, h_i, w_i) float32 each, coarsest repeated later."""

    maps: tuple[np.ndarray, ...]
    scale_x: float  # image pixels → network-input pixels
    scale_y: float
    rows: int  # cells of the finest (stride-8) map
    columns: int

    def grid(self) -> FeatureGrid:
        """(rows, columns, 256) cells: every map repeated to the finest, for fitting."""
        cells = np.concatenate([_to_finest(m, self.rows, self.columns) for m in self.maps]).transpose(1, 2, 0)
        return FeatureGrid(np.ascontiguousarray(cells, np.float32), self.scale_x, self.scale_y, HEAD_STRIDE_PX)


def _to_finest(values: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """(c, h, w) repeated to (c, rows, columns) (each coarse cell covers whole fine cells)."""
    return np.repeat(np.repeat(values, rows // values.shape[1], axis=1), columns // values.shape[2], axis=2)


class HeadMaps:
    """YuNet's inner maps of an image (the prepared `head-feature-maps`)."""

    def __init__(self, runtime: Runtime) -> None:
        self._session = runtime.session("head-feature-maps", SMALL_MODEL_THREADS)

    def describe(self, rgb: np.ndarray) -> MapsOfImage:
        """The maps of the image with its longer side at `HEAD_WORKING_SIDE_PX`, zero-padded to YuNet's multiple."""
        return self.describe_input(working_input(rgb))

    def describe_input(self, working: WorkingInput) -> MapsOfImage:
        tensor = working.tensor
        maps = tuple(m[0] for m in self._session.run(None, {"input": tensor}))
        return MapsOfImage(maps, working.scale_x, working.scale_y, tensor.shape[2] // HEAD_STRIDE_PX,
                           tensor.shape[3] // HEAD_STRIDE_PX)


@dataclass(frozen=True)
class WorkingInput:
    """YuNet's input of the image at the heads' working size, shared by both detectors."""

    tensor: np.ndarray  # (1, 3, H, W) float32
    scale_x: float  # image pixels → tensor pixels
    scale_y: float


def working_input(rgb: np.ndarray) -> WorkingInput:
    """The image with its longer side at `HEAD_WORKING_SIDE_PX`, as YuNet's zero-padded input."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]
    factor = HEAD_WORKING_SIDE_PX / max(height, width)
    scaled_width, scaled_height = max(1, round(width * factor)), max(1, round(height * factor))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    tensor = yunet_input(cv2.resize(rgb, (scaled_width, scaled_height), interpolation=interpolation))
    return WorkingInput(tensor, scaled_width / width, scaled_height / height)


def tuned_heads(session: ort.InferenceSession, working: WorkingInput) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (m, 4 xyxy image pixels) and scores of the head-tuned YuNet (`ppe-head-yunet`), from `TUNED_FLOOR`."""
    found = yunet_boxes(session.run(None, {"input": working.tensor}), working.tensor, TUNED_FLOOR, SAME_HEAD_IOU)
    factors = np.array([working.scale_x, working.scale_y] * 2, np.float32)
    return (found.boxes / factors).astype(np.float32), found.scores.astype(np.float32)


def agree(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Two detectors' heads as one list: each head (the better box among those overlapping at `SAME_HEAD_IOU`)
    scores the mean of the two detectors' best probabilities on it, 0 for a detector that has no box there.

    Grouped 5-fold on the hard-hat training half (2026-12-01, both detectors' scores calibrated by their own
    out-of-fold curves first, the final curve fitted on these fused scores): AP at IoU 0.4 0.619 for the cell head
    alone, 0.545 for the tuned YuNet alone, 0.689 for this mean, 0.671 for the max, 0.686 for a noisy-or; listed at
    P >= 0.5, 115 real heads of 131 boxes for the cell head alone, 124 of 145 for this mean. Two detectors that
    agree are right more often than either is sure.

    Args:
        first, second: (boxes (n, 4) xyxy, probabilities (n,)) of each detector.
    Returns:
        boxes (m, 4) float32 and scores (m,) float32, best first.
    """
    boxes = np.concatenate([first[0], second[0]]).astype(np.float32).reshape(-1, 4)
    scores = np.concatenate([first[1], second[1]]).astype(np.float32)
    kept = boxes[non_maximum_suppression(boxes, scores, SAME_HEAD_IOU)]

    def best(found: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        if not len(found[0]) or not len(kept):
            return np.zeros(len(kept), np.float32)
        overlapping = iou_matrix(kept, found[0].astype(np.float32)) >= SAME_HEAD_IOU
        return np.where(overlapping, found[1][None, :], 0).max(axis=1).astype(np.float32)

    fused = (best(first) + best(second)) / 2
    order = np.argsort(-fused, kind="stable")
    return kept[order], fused[order]


@dataclass(frozen=True)
class CellOutputs:
    """The model's cell head and box regression folded into one linear map per YuNet map.

    Both are linear in the standardised cells, so each map's share is computed at its own resolution and only
    the (h, w, 5) result is repeated to the finest grid: no 256-number cell is ever built (26 ms → ~3 ms for a
    640x480 photo, 2 threads under load).
    """

    weights: tuple[np.ndarray, ...]  # (64, 5) per map: cell logit, then x / y offset and log width / height
    bias: np.ndarray  # (5,)

    @classmethod
    def of(cls, heads: DetectionHeads) -> CellOutputs:
        weights, bias = [], []
        for mean, scale, w, b in ((heads.classes.mean, heads.classes.scale, heads.classes.weights, heads.classes.bias),
                                  (heads.boxes.mean, heads.boxes.scale, heads.boxes.weights, heads.boxes.bias)):
            weights.append(w / scale[:, None])
            bias.append(b - (mean / scale) @ w)
        joined = np.concatenate(weights, axis=1).astype(np.float32)
        channels = joined.shape[0] // 4
        return cls(tuple(joined[i * channels : (i + 1) * channels] for i in range(4)),
                   np.concatenate(bias).astype(np.float32))

    def compute(self, image: MapsOfImage) -> np.ndarray:
        """(rows, columns, 5) per fine cell."""
        total = np.zeros((5, image.rows, image.columns), np.float32)
        for values, weights in zip(image.maps, self.weights, strict=True):
            total += _to_finest(np.tensordot(weights.T, values, axes=1), image.rows, image.columns)
        return total.transpose(1, 2, 0) + self.bias


def decode(outputs: np.ndarray, image: MapsOfImage, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (m, 4 xyxy image pixels) and raw scores (m,) of the cells scoring >= floor, after NMS with voting."""
    logits = outputs[..., 0].ravel()
    cells = np.flatnonzero(logits >= np.log(floor / (1 - floor)))
    scores = 1 / (1 + np.exp(-logits[cells].astype(np.float64)))
    regression = outputs.reshape(-1, 5)[cells, 1:]
    stride = HEAD_STRIDE_PX
    mid_x = (cells % image.columns + 0.5 + regression[:, 0]) * stride
    mid_y = (cells // image.columns + 0.5 + regression[:, 1]) * stride
    half_w = np.exp(np.clip(regression[:, 2], -3, 6)) * stride / 2
    half_h = np.exp(np.clip(regression[:, 3], -3, 6)) * stride / 2
    boxes = np.stack([(mid_x - half_w) / image.scale_x, (mid_y - half_h) / image.scale_y,
                      (mid_x + half_w) / image.scale_x, (mid_y + half_h) / image.scale_y], axis=1)
    return drop_centred_inside(*suppress_and_vote(boxes.astype(np.float32), scores.astype(np.float32)))


def drop_centred_inside(boxes: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop every box whose centre lies inside a better-scored kept box: one head, one box.

    After NMS at IoU 0.3 a head still often had a second, larger or shifted box (overlap under 0.3); on the
    training half's out-of-fold detections this rule took 508 boxes to 382 and the heads listed at P >= 50 %
    from 106 real of 127 to 115 real of 131 (two heads of the set never hold each other's centre).

    Args:
        boxes: (n, 4) xyxy, best first (as `suppress_and_vote` returns them); scores: (n,).
    """
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    kept: list[int] = []
    for index in range(len(boxes)):
        x, y = centres[index]
        held = [(boxes[k, 0] <= x <= boxes[k, 2]) and (boxes[k, 1] <= y <= boxes[k, 3]) for k in kept]
        if not any(held):
            kept.append(index)
    return boxes[kept], scores[kept]


class HeadDetector:
    """Head boxes with measured confidences: the cell head (`ppe-heads` on `head-feature-maps`) and the
    head-tuned YuNet (`ppe-head-yunet`), on the same input, fused by `agree`."""

    def __init__(self, runtime: Runtime) -> None:
        self.maps = HeadMaps(runtime)
        self.tuned = runtime.session("ppe-head-yunet", SMALL_MODEL_THREADS)
        self.model = HeadModel.load(runtime.model_path("ppe-heads"))
        self.outputs = CellOutputs.of(self.model.detection)

    def find_heads(self, rgb: np.ndarray) -> Heads:
        """Every head either detector finds (the cell head from raw score `HEAD_CANDIDATE_FLOOR`, the tuned YuNet
        from `TUNED_FLOOR`), most probable first, cut to the image."""
        working = working_input(rgb)
        image = self.maps.describe_input(working)
        boxes, scores = decode(self.outputs.compute(image), image, HEAD_CANDIDATE_FLOOR)
        tuned_boxes, tuned_scores = tuned_heads(self.tuned, working)
        fused_boxes, fused = agree((boxes, self.model.curve.probability(scores)),
                                   (tuned_boxes, self.model.tuned_curve.probability(tuned_scores)))
        limits = np.array([rgb.shape[1], rgb.shape[0]] * 2, np.float32)
        return Heads(np.clip(fused_boxes, 0, limits).astype(np.float32), self.model.fused_curve.probability(fused))
