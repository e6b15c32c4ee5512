"""Fit DetectProtectiveEquipment's head detector: `reko/vision/models/ppe-heads.npz`.

On the training half of the CC0 hard-hat set (`bench/ppe_sets.py`: even positions in file order), every
ground-truth head box (`helmet` and `head` alike: the detector finds heads, the cover head judges them):
- each photo and its mirror image are described by YuNet's inner maps (`reko/vision/ppe/heads.py`);
- the cell head and box regression of `reko/vision/training/detection.py` are fitted on them;
- the confidence curve (P(a box matches a ground-truth head at IoU >= 0.4) from the raw cell score) is fitted on
  out-of-fold detections: 5 folds by image, each fold's photos detected by a head fitted on the other four.
  The same detections give the printed AP, so the reported half is never looked at.

Run from the repository root: `.venv/bin/python -m scripts.train_head_detector [DATA_DIR]`. Prints the
cross-validated numbers and the sha256 of the written file (catalogue entry `ppe-heads`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.datasets import DATA_DIR, LabelledImage
from bench.metrics import match_detections
from bench.models import bench_runtime
from bench.ppe_sets import PART_MATCH_IOU, halves, hard_hat_images
from reko.vision.labels.confidence import LogisticCurve
from reko.vision.ppe.heads import HEAD_CANDIDATE_FLOOR, CellOutputs, HeadMaps, HeadModel, MapsOfImage, decode
from reko.vision.training.detection import TrainingBox, fit_detection
from scripts.train_ppe_covers import fit_curve, read_rgb

OUTPUT = Path(__file__).resolve().parents[1] / "reko" / "vision" / "models" / "ppe-heads.npz"
FOLDS = 5
# Chosen by the grouped 5-fold AP below (IoU 0.4) with scale 2 and the four maps: C 0.005 / 0.05 / 0.5 gave
# 0.623 / 0.633 / 0.638; ridge alpha 100 (Custom Labels' 3000 was chosen for Lite0's 432 stride-16 numbers).
CELL_C = 0.5
BOX_RIDGE_ALPHA = 100.0
MAX_NEGATIVE_CELLS = 60_000


def training_boxes(boxes: np.ndarray) -> list[TrainingBox]:
    return [TrainingBox(0, float(x0), float(y0), float(x1 - x0), float(y1 - y0)) for x0, y0, x1, y1 in boxes]


Described = tuple[MapsOfImage, MapsOfImage, np.ndarray]


def described(maps: HeadMaps, images: Sequence[LabelledImage]) -> list[Described]:
    """Each photo's maps, its mirror image's maps and its mirror image's head boxes."""
    found = []
    for image in images:
        rgb = read_rgb(image.path)
        mirrored = image.boxes.copy()
        mirrored[:, [0, 2]] = rgb.shape[1] - image.boxes[:, [2, 0]]
        found.append((maps.describe(rgb), maps.describe(np.ascontiguousarray(rgb[:, ::-1])), mirrored))
    return found


def fit(grids: Sequence[Described], images: Sequence[LabelledImage]) -> HeadModel:
    every_grid = []
    every_box: list[list[TrainingBox]] = []
    for (grid, mirrored_grid, mirrored), image in zip(grids, images, strict=True):
        every_grid += [grid.grid(), mirrored_grid.grid()]
        every_box += [training_boxes(image.boxes), training_boxes(mirrored)]
    heads = fit_detection(every_grid, every_box, 1, c=CELL_C, ridge_alpha=BOX_RIDGE_ALPHA,
                          max_negative_cells=MAX_NEGATIVE_CELLS)
    return HeadModel(heads, LogisticCurve(1.0, 0.0))


def out_of_fold(grids: Sequence[Described], images: Sequence[LabelledImage]) -> tuple[np.ndarray, np.ndarray, int]:
    """Raw scores of every held-out detection, whether each matched a head, and the number of heads."""
    fold_of = np.arange(len(images)) % FOLDS
    scores: list[float] = []
    matched: list[bool] = []
    for fold in range(FOLDS):
        inside = [i for i in range(len(images)) if fold_of[i] != fold]
        model = fit([grids[i] for i in inside], [images[i] for i in inside])
        for i in np.flatnonzero(fold_of == fold):
            image = grids[i][0]
            boxes, found = decode(CellOutputs.of(model.detection).compute(image), image, HEAD_CANDIDATE_FLOOR)
            matches = match_detections(boxes, found, images[i].boxes, PART_MATCH_IOU)
            scores += [float(s) for s in found]
            matched += [bool(m >= 0) for m in matches]
    return np.array(scores), np.array(matched), sum(len(image.boxes) for image in images)


def report(scores: np.ndarray, matched: np.ndarray, truth: int, curve: LogisticCurve) -> None:
    order = np.argsort(-scores, kind="stable")
    hits = matched[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    average_precision = float(precision[hits].sum() / truth)
    print(f"grouped {FOLDS}-fold on the training half: {truth} heads, AP (IoU {PART_MATCH_IOU}) "
          f"{average_precision:.3f}, recall at the floor ({HEAD_CANDIDATE_FLOOR}): {hits.sum() / truth:.3f}")
    probability = curve.probability(scores)
    for low, high in ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        band = (probability >= low) & (probability < high)
        print(f"  P {low:.1f}-{min(high, 1):.1f}: {int(band.sum())} boxes, {int(matched[band].sum())} real heads")
    listed = probability >= 0.5
    print(f"  listed (P >= 0.5): {int(listed.sum())} boxes, {int(matched[listed].sum())} real "
          f"(recall {matched[listed].sum() / truth:.3f})")


def main(argv: Sequence[str]) -> None:
    data_dir = Path(argv[0]) if argv else DATA_DIR
    images = halves(hard_hat_images(data_dir))[0]
    grids = described(HeadMaps(bench_runtime()), images)
    scores, matched, truth = out_of_fold(grids, images)
    curve = LogisticCurve(*map(float, fit_curve(scores, matched.astype(int))))
    print(f"curve: {len(scores)} held-out boxes, {int(matched.sum())} real -> slope {curve.slope:.4f}, "
          f"intercept {curve.intercept:.4f}")
    report(scores, matched, truth, curve)
    model = HeadModel(fit(grids, images).detection, curve)
    np.savez(OUTPUT, **model.to_arrays())  # type: ignore[arg-type]
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes) sha256 {hashlib.sha256(OUTPUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
