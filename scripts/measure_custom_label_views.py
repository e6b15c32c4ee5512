"""Choose the classification views of Custom Labels by cross-validation inside the face-mask TRAINING split only.

The split is the bench's (`bench/custom_labels.py`: 82 training crops, with_mask / without_mask); its held-back
crops are never read. Each design is scored by nested cross-validation: 5 outer folds by crop (3 repeats), and
inside each outer fold the design's own training procedure (heads fitted on the chosen views, thresholds from
5-fold out-of-fold probabilities, `reko.vision.training.heads`), so a design's thresholds never see the crops it
is scored on. Printed: mean and spread over the repeats of the macro F1 (mean of the two labels' F1).

Run from the repository root: `.venv/bin/python -m scripts.measure_custom_label_views [DATA_DIR]`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.model_selection import StratifiedKFold

from bench.custom_labels import BUCKET, mask_manifests
from bench.datasets import DATA_DIR
from bench.models import bench_runtime
from reko.store.manifests import parse_entry
from reko.vision.image_features import MultiLevelFeatures
from reko.vision.training import heads as head_fitting
from reko.vision.training.metrics import classification_scores, macro_f1
from reko.vision.training.views import training_views

OUTER_FOLDS = 5
REPEATS = 3
VIEW_NAMES = ("image", "mirror", "centre", "corner 1", "corner 2", "corner 3", "corner 4", "zoom-out", "brighter",
              "darker", "desaturated")
GEOMETRY = VIEW_NAMES[:8]
DESIGNS: dict[str, tuple[tuple[str, ...], int]] = {  # views fitted on, views judged on (the first n)
    "image alone": (("image",), 1),
    "image + mirror": (("image", "mirror"), 1),
    "image + mirror, mirror also judged": (("image", "mirror"), 2),
    "shifts and zooms": (GEOMETRY, 1),
    "shifts and zooms, mirror also judged": (GEOMETRY, 2),
    "every view, mirror also judged": (VIEW_NAMES, 2),
}


def training_crops(data_dir: Path) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        bucket_dir = Path(folder) / BUCKET
        train, _ = mask_manifests(data_dir, bucket_dir)
        entries = [parse_entry(line) for line in train]
        images = [np.asarray(Image.open(bucket_dir / entry.key).convert("RGB")) for entry in entries]
    labels = sorted({label for entry in entries for label in entry.image_labels})
    targets = np.array([[label in entry.image_labels for label in labels] for entry in entries], bool)
    return images, targets, labels


def nested_f1(views: np.ndarray, targets: np.ndarray, labels: list[str], judged: int, seed: int) -> float:
    probabilities = np.zeros(targets.shape, np.float32)
    thresholds = np.zeros(targets.shape, np.float32)
    for fitted, held in StratifiedKFold(OUTER_FOLDS, shuffle=True, random_state=seed).split(views, targets[:, 0]):
        out_of_fold = head_fitting.out_of_fold_probabilities(views[fitted], targets[fitted], judged)
        thresholds[held] = head_fitting.best_thresholds(out_of_fold, targets[fitted])
        heads = head_fitting.fit_view_heads(views[fitted], targets[fitted])
        probabilities[held] = head_fitting.view_probabilities(heads, views[held, :judged])
    predicted = (probabilities >= thresholds).astype(np.float32)  # thresholds applied per crop, then scored
    return macro_f1(classification_scores(predicted, targets, np.full(len(labels), 0.5), labels))


def main(data_dir: Path) -> None:
    images, targets, labels = training_crops(data_dir)
    features = MultiLevelFeatures(bench_runtime())
    every = np.stack([features.describe(training_views(rgb)) for rgb in images])  # (n, 11, 1280)
    print(f"{len(images)} training crops, {targets.sum(axis=0).tolist()} per label {labels}")
    for name, (fitted_on, judged) in DESIGNS.items():
        views = every[:, [VIEW_NAMES.index(view) for view in fitted_on]]
        scores = [nested_f1(views, targets, labels, judged, seed) for seed in range(100, 100 + REPEATS)]
        print(f"{name:40s} macro F1 {np.mean(scores):.3f} ± {np.std(scores):.3f}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR)
