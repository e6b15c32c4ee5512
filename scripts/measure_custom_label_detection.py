"""Compare Custom Labels object-detection designs by cross-validation inside the hard-hat TRAINING photos only.

The split is the bench's (`bench/custom_labels.py`: the first 80 photos of `ppe/hard_hat_workers` in natural order;
the 20 held-back photos are never read). Each design is scored by 3-fold cross-validation by photo with the real
training code (`fit_detector`, `find_objects`), under three fold assignments (photo i to fold i % 3, then two
seeded permutations), because one assignment moves macro F1 by ~0.03: the head label has only 45 boxes. Printed:
macro F1 at IoU 0.5 at each label's F1-best threshold on the pooled out-of-fold boxes, per assignment and mean.

Run from the repository root: `.venv/bin/python -m scripts.measure_custom_label_detection [--two-stages]
[SIDE_PX ...]` (longer sides the photos are scaled to, 640, the shipped one, by default; `--two-stages` leaves out
the crop stage, `reko.vision.training.crop_refinement`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.custom_labels import natural, voc
from bench.datasets import DATA_DIR
from bench.models import bench_runtime
from reko.vision.training.detection import DETECTION_SIDE_PX, FeatureGrid, FeatureMaps, TrainingBox
from reko.vision.training.detector import find_objects, fit_detector
from reko.vision.training.heads import best_threshold
from reko.vision.training.metrics import match_boxes

TRAINING_PHOTOS = 80
FOLDS = 3
FOLD_SEEDS = (None, 1, 2)  # None: photo i in fold i % 3
LABELS = ("helmet", "head")


def training_photos(data_dir: Path) -> tuple[list[np.ndarray], list[list[TrainingBox]]]:
    hats = data_dir / "ppe" / "hard_hat_workers"
    images, boxes = [], []
    for xml_path in sorted((hats / "annotations").glob("*.xml"), key=natural)[:TRAINING_PHOTOS]:
        _, found = voc(xml_path)
        images.append(np.asarray(Image.open(hats / "images" / f"{xml_path.stem}.png").convert("RGB")))
        boxes.append([TrainingBox(LABELS.index(label), left, top, width, height)
                      for label, left, top, width, height in found if label in LABELS])
    return images, boxes


def _truth(boxes: list[TrainingBox], label_index: int) -> np.ndarray:
    return np.array([[b.left, b.top, b.left + b.width, b.top + b.height] for b in boxes
                     if b.label_index == label_index], np.float32).reshape(-1, 4)


def cross_validated_f1(
    grids: list[FeatureGrid], boxes: list[list[TrainingBox]], seed: int | None, maps: FeatureMaps | None
) -> list[float]:
    """Each label's F1 on out-of-fold boxes at its F1-best threshold."""
    folds = np.arange(len(grids)) % FOLDS
    if seed is not None:
        folds = np.random.default_rng(seed).permutation(len(grids)) % FOLDS
    scores: list[list[float]] = [[] for _ in LABELS]
    hits: list[list[bool]] = [[] for _ in LABELS]
    positives = np.zeros(len(LABELS), int)
    for fold in range(FOLDS):
        fitted = np.flatnonzero(folds != fold)
        detector = fit_detector([grids[i] for i in fitted], [boxes[i] for i in fitted], len(LABELS), maps)
        for index in np.flatnonzero(folds == fold):
            found = {group.label_index: group for group in find_objects(detector, grids[index], feature_maps=maps)}
            for label_index in range(len(LABELS)):
                truth = _truth(boxes[index], label_index)
                positives[label_index] += len(truth)
                if (group := found.get(label_index)) is not None:
                    scores[label_index] += group.scores.tolist()
                    hits[label_index] += match_boxes(group.boxes, group.scores, truth).tolist()
    result = []
    for label_index in range(len(LABELS)):
        label_scores, label_hits = np.array(scores[label_index]), np.array(hits[label_index], bool)
        above = label_scores >= best_threshold(label_scores, label_hits, int(positives[label_index]))
        true_positives = int((label_hits & above).sum())
        precision, recall = true_positives / max(int(above.sum()), 1), true_positives / positives[label_index]
        result.append(2 * precision * recall / max(precision + recall, 1e-9))
    return result


def main(sides: list[int], two_stages: bool = False) -> None:
    images, boxes = training_photos(DATA_DIR)
    for side in sides:
        started = time.perf_counter()
        maps = FeatureMaps(bench_runtime(), side)
        grids = [maps.describe(rgb) for rgb in images]
        per_seed = [cross_validated_f1(grids, boxes, seed, None if two_stages else maps) for seed in FOLD_SEEDS]
        macro = [float(np.mean(labels)) for labels in per_seed]
        detail = "; ".join(f"{m:.3f} ({', '.join(f'{f:.3f}' for f in labels)})" for m, labels in zip(
            macro, per_seed, strict=True))
        print(f"side {side} px: macro F1 {np.mean(macro):.3f} mean of {detail} [{LABELS}]"
              f" ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--two-stages"]
    main([int(side) for side in arguments] or [DETECTION_SIDE_PX], two_stages="--two-stages" in sys.argv)
