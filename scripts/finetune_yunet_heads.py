"""Fine-tune YuNet, the face detector, into a head detector: `reko/vision/models/ppe-head-yunet.onnx`.

Called by `scripts/train_head_detector.py`, which fits it on each fold and on the whole training half. The graph
is the prepared `face-detector` (float weights), trained whole as a PyTorch module (`scripts/torch_graph.py`) and
written back into the same graph: serving decodes it exactly as it decodes faces. Training, chosen on folds 0
and 1 of the head detector's five (2026-12-01; a first run at learning rate 5e-4, or with a one-cycle schedule
at 5e-3, learned nothing in 400-1,500 steps): 1,500 steps of 8 random 320 px crops of the photos at the serving
scale (longer side `HEAD_WORKING_SIDE_PX`) x 0.8-1.2, mirrored half the time, brightness x 0.75-1.25; AdamW at
3e-3 with a cosine schedule, gradients clipped at norm 5. Targets as YOLOX's centre sampling, simplified: a head
is a positive at a level whose stride fits its size (longer side 2-10 strides; stride 8 takes the smaller ones
too), at the points near its centre; points inside a head but not positive are ignored; class and objectness
both learn positive / negative (BCE on logits), the box learns GIoU. ~3.5 minutes a model on 2 cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as functional

from bench.datasets import LabelledImage
from reko.vision.faces.detector import YUNET_STRIDES, yunet_input
from reko.vision.ppe.heads import HEAD_WORKING_SIDE_PX
from scripts.torch_graph import TrainableGraph
from scripts.train_ppe_covers import read_rgb

CROP_PX = 320
BATCH = 8
STEPS = 1500
LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-4
GRADIENT_CLIP = 5.0
BOX_WEIGHT = 5.0
THREADS = 2  # the sha256 of the written file is reproduced with this many torch threads


def random_crop(rng: np.random.Generator, rgb: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YuNet's (3, CROP_PX, CROP_PX) input of a random view of the photo, and the heads whose centre it holds."""
    height, width = rgb.shape[:2]
    scale = HEAD_WORKING_SIDE_PX / max(height, width) * rng.uniform(0.8, 1.2)
    image = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_LINEAR)
    heads = boxes * scale
    if rng.random() < 0.5:
        image = image[:, ::-1]
        heads = heads.copy()
        heads[:, [0, 2]] = image.shape[1] - heads[:, [2, 0]]
    top = rng.integers(0, max(1, image.shape[0] - CROP_PX + 1))
    left = rng.integers(0, max(1, image.shape[1] - CROP_PX + 1))
    crop = np.zeros((CROP_PX, CROP_PX, 3), np.uint8)
    part = image[top : top + CROP_PX, left : left + CROP_PX]
    crop[: part.shape[0], : part.shape[1]] = part
    crop = np.clip(crop.astype(np.float32) * rng.uniform(0.75, 1.25), 0, 255).astype(np.uint8)
    heads = heads - np.array([left, top, left, top], np.float32)
    centre_x, centre_y = (heads[:, 0] + heads[:, 2]) / 2, (heads[:, 1] + heads[:, 3]) / 2
    inside = (centre_x > 0) & (centre_x < CROP_PX) & (centre_y > 0) & (centre_y < CROP_PX)
    return yunet_input(crop)[0], np.clip(heads[inside], 0, CROP_PX)


LevelTargets = tuple[np.ndarray, np.ndarray]  # (points,) 1 positive / 0 negative / -1 ignored; (points, 4) its head


def level_targets(heads: np.ndarray) -> list[LevelTargets]:
    """Targets of one crop at each stride; a point's reference is its cell's corner, as YuNet decodes."""
    found = []
    for stride in YUNET_STRIDES:
        cells = CROP_PX // stride
        rows, columns = np.mgrid[0:cells, 0:cells]
        x, y = (columns * stride).ravel(), (rows * stride).ravel()
        state = np.zeros(cells * cells, np.int64)
        head_of = np.zeros((cells * cells, 4), np.float32)
        area_of = np.full(cells * cells, np.inf)
        for x0, y0, x1, y1 in heads:
            width, height = x1 - x0, y1 - y0
            inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
            state[inside & (state == 0)] = -1
            sides = max(width, height) / stride
            if not (2 <= sides < 10 or (stride == YUNET_STRIDES[0] and sides < 2)):
                continue
            near = (np.abs(x - (x0 + x1) / 2) <= max(0.75 * stride, width / 4)) & (
                np.abs(y - (y0 + y1) / 2) <= max(0.75 * stride, height / 4))
            core = near & (width * height < area_of)  # the smaller head takes a shared point
            state[core], head_of[core], area_of[core] = 1, (x0, y0, x1, y1), width * height
        found.append((state, head_of))
    return found


def generalized_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n,) GIoU of (n, 4) xyxy box pairs."""
    inner = ((torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
             * (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0))
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inner + 1e-6
    hull = ((torch.maximum(a[:, 2], b[:, 2]) - torch.minimum(a[:, 0], b[:, 0]))
            * (torch.maximum(a[:, 3], b[:, 3]) - torch.minimum(a[:, 1], b[:, 1])) + 1e-6)
    return inner / union - (hull - union) / hull


def batch_loss(outputs: dict[str, torch.Tensor], targets: Sequence[list[LevelTargets]]) -> torch.Tensor:
    """Objectness and class BCE over every point not ignored, GIoU over positives, all per positive."""
    total = torch.zeros(())
    positives = 0
    for level, stride in enumerate(YUNET_STRIDES):
        state = torch.from_numpy(np.stack([t[level][0] for t in targets]))
        head_of = torch.from_numpy(np.stack([t[level][1] for t in targets]))
        valid, positive = state >= 0, state == 1
        truth = positive.float()[valid]
        for name in ("obj", "cls"):
            logits = outputs[f"{name}_{stride}"][..., 0][valid]
            total = total + functional.binary_cross_entropy_with_logits(logits, truth, reduction="sum")
        if positive.any():
            regression = outputs[f"bbox_{stride}"][positive]
            point = positive.nonzero(as_tuple=True)[1]
            cells = CROP_PX // stride
            x = (point % cells).float() * stride + regression[:, 0] * stride
            y = (point // cells).float() * stride + regression[:, 1] * stride
            half_w = torch.exp(regression[:, 2].clamp(-4, 6)) * stride / 2
            half_h = torch.exp(regression[:, 3].clamp(-4, 6)) * stride / 2
            boxes = torch.stack([x - half_w, y - half_h, x + half_w, y + half_h], dim=1)
            total = total + BOX_WEIGHT * (1 - generalized_iou(boxes, head_of[positive])).sum()
        positives += int(positive.sum())
    return total / max(1, positives)


def finetune(source: Path, images: Sequence[LabelledImage], seed: int) -> TrainableGraph:
    """YuNet's graph at `source` trained on the images' head boxes."""
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(seed)
    graph = TrainableGraph(source, logits=True)
    optimizer = torch.optim.AdamW(graph.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, STEPS)
    photos = [(read_rgb(image.path), image.boxes) for image in images]
    for _ in range(STEPS):
        crops = [random_crop(rng, *photos[rng.integers(len(photos))]) for _ in range(BATCH)]
        loss = batch_loss(graph(torch.from_numpy(np.stack([c[0] for c in crops]))),
                          [level_targets(c[1]) for c in crops])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(graph.parameters(), GRADIENT_CLIP)
        optimizer.step()
        schedule.step()
    return graph
