"""Fit HAND_COVER (glove vs bare hand): `reko/vision/models/ppe-hand-cover.npz`.

Data: the hands Reko located on the CC0 PPE photos and labelled by eye (`bench/labels/hand_cover.csv`, protocol
in `docs/hand-cover-labels.md`); `unclear` hands are left out. Only the training half is used (`bench/ppe_sets.py`:
even positions in each set's file order, grouped by image); `bench/ppe.py` reports on the other half.
Each crop is the labelled hand box grown by a margin; its EfficientNet-Lite0 pooled features (the first columns of
`MultiLevelFeatures`) feed an L2 logistic regression. The margin and the L2 strength are chosen by 5-fold
cross-validation grouped by image inside the training half (calibrated log-loss), and the head's output is
calibrated by a logistic curve on its out-of-fold predictions. The script prints every choice and the majority
baseline.

Run from the repository root: `.venv/bin/python -m scripts.train_hand_cover [DATA_DIR]`. Prints the sha256 of the
written file (catalogue entry `ppe-hand-cover`).
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import log_loss

from bench.datasets import DATA_DIR
from bench.metrics import auc, grouped_folds, logistic_model
from bench.models import bench_runtime
from bench.ppe_sets import halves, hard_hat_images, mask_images
from reko.vision.image_features import IMAGE_FEATURES_DIMENSIONS, MultiLevelFeatures
from reko.vision.ppe.covers import crop
from scripts.train_ppe_covers import fold_scores, read_rgb

LABELS = Path(__file__).resolve().parents[1] / "bench" / "labels" / "hand_cover.csv"
OUTPUT = Path(__file__).resolve().parents[1] / "reko" / "vision" / "models" / "ppe-hand-cover.npz"
MARGIN_CHOICES = (0.0, 0.15, 0.3, 0.5, 0.8, 1.2, 1.6)  # grown while the best sat at the grid's edge
C_CHOICES = (0.001, 0.003, 0.01, 0.03)
COVERED = {"glove": 1, "bare": 0}


def labelled_hands(path: Path = LABELS) -> list[dict[str, str]]:
    """Rows of the label file judged glove or bare."""
    with path.open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["hand_cover"] in COVERED]


def training_images(data_dir: Path) -> set[str]:
    """The training half's images, relative to `data_dir` as the label file names them."""
    names = set()
    for images in (hard_hat_images(data_dir), mask_images(data_dir)):
        names |= {str(image.path.relative_to(data_dir)) for image in halves(images)[0]}
    return names


def hand_box(row: dict[str, str]) -> np.ndarray:
    return np.array([float(row[key]) for key in ("x0", "y0", "x1", "y1")], np.float32)


def main(argv: Sequence[str]) -> None:
    data_dir = (Path(argv[0]) if argv else DATA_DIR).resolve()
    training = training_images(data_dir)
    rows = [row for row in labelled_hands() if row["image"] in training]
    labels = np.array([COVERED[row["hand_cover"]] for row in rows])
    groups = [row["image"] for row in rows]
    share = labels.mean()
    print(f"training half: {len(rows)} hands ({int(labels.sum())} gloves) on {len(set(groups))} images; "
          f"majority baseline accuracy {max(share, 1 - share):.4f}, log-loss of a constant "
          f"{log_loss(labels, np.full(len(labels), share)):.4f}")
    features = MultiLevelFeatures(bench_runtime())
    photos = {name: read_rgb(data_dir / name) for name in set(groups)}
    folds = grouped_folds(labels, groups)
    best: tuple[float, float, float, np.ndarray, np.ndarray] | None = None
    for margin in MARGIN_CHOICES:
        crops = [crop(photos[row["image"]], hand_box(row), margin) for row in rows]
        described = features.describe(crops)[:, :IMAGE_FEATURES_DIMENSIONS]
        for c in C_CHOICES:
            scores = fold_scores(described, labels, folds, c)
            print(f"margin {margin} C={c}: grouped 5-fold: raw log-loss {log_loss(labels, scores.raw):.4f}, "
                  f"calibrated {scores.log_loss:.4f}, accuracy {scores.accuracy:.4f}, "
                  f"bare recall {scores.uncovered_recall:.4f}, glove AUC {auc(labels, scores.raw):.4f}")
            if best is None or scores.log_loss < best[0]:
                best = (scores.log_loss, margin, c, scores.curve, described)
    assert best is not None
    _, margin, c, curve, described = best
    model = logistic_model(c).fit(described, labels)
    scaler, regression = model[0], model[-1]
    np.savez(OUTPUT, **{  # type: ignore[arg-type]
        "hand_cover.mean": scaler.mean_.astype(np.float32),
        "hand_cover.scale": scaler.scale_.astype(np.float32),
        "hand_cover.weights": regression.coef_[0].astype(np.float32),
        "hand_cover.bias": np.array([regression.intercept_[0]], np.float32),
        "hand_cover.margin": np.array([margin], np.float32),
        "hand_cover.samples": np.array([len(labels), int(labels.sum())], np.int64),
        "curve.hand_cover": curve,
    })
    print(f"chose margin {margin}, C={c}, curve {curve}")
    print(f"wrote {OUTPUT} sha256 {hashlib.sha256(OUTPUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
