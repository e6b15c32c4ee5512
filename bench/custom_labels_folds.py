"""Custom Labels F1 by 5-fold cross-validation grouped by photo, through boto3 against `reko serve`.

The documented split (`bench/custom_labels.py`) holds back only 4 without_mask crops, so its F1 moves by ~0.05 a
crop. Here every photo of each set is held back once: the photos are dealt into 5 folds, and each fold is a new
project trained by the real training code on the other four folds' images and evaluated on its own, as a user
would through the API. Reported: each fold's F1 and the mean ± sd over the folds.

- face masks: crops of a photo stay in one fold; the photos are sorted by their count of without_mask crops (most
  first, natural order among equals) and dealt 0, 1, …, 4, 4, …, 0, so each fold holds about a fifth of the rare
  label. The training folds' crops are capped at 50 a label, as in the documented split (so at most 100).
- hard hats: photo i (natural order) goes to fold i % 5: 80 photos train, 20 are tested, five times.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import report
from bench.custom_labels import (
    BUCKET,
    capped_training,
    evaluation_summary,
    hard_hat_lines,
    mask_crops,
    served_folder,
    train_version,
)
from bench.datasets import DATA_DIR

FOLDS = 5
RARE_MASK_LABEL = "without_mask"


def mask_folds(crops: list[tuple[int, str, str]]) -> dict[int, int]:
    """Photo index → fold, dealt in a snake over the photos sorted by their rare-label crops (most first)."""
    photos = sorted({photo for photo, _, _ in crops})
    rare = {photo: sum(1 for p, label, _ in crops if p == photo and label == RARE_MASK_LABEL) for photo in photos}
    order = sorted(photos, key=lambda photo: -rare[photo])
    snake = [*range(FOLDS), *reversed(range(FOLDS))]
    return {photo: snake[position % len(snake)] for position, photo in enumerate(order)}


def fold_row(project: str, scores: list[dict[str, float]], sizes: list[tuple[int, int]]) -> dict[str, object]:
    f1 = np.array([score["F1"] for score in scores])
    row: dict[str, object] = {
        "project": project,
        "train / test images a fold": ", ".join(f"{train}/{test}" for train, test in sizes),
        "F1 per fold": ", ".join(f"{value:.3f}" for value in f1),
        "F1 mean ± sd": f"{f1.mean():.3f} ± {f1.std(ddof=1):.3f}",
    }
    for label in [key for key in scores[0] if key != "F1"]:
        values = np.array([score[label] for score in scores])
        row[f"{label} F1 mean ± sd"] = f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"
    return row


def cross_validate(
    rekognition, server_dir: Path, project: str, lines: list[str], folds: list[int],
    train_lines: Callable[[list[int]], list[str]],
) -> dict[str, object]:
    """Train and evaluate one project a fold on `lines` (fold of each in `folds`); `train_lines` turns the indices
    of the other folds' lines into the training manifest's lines."""
    scores: list[dict[str, float]] = []
    sizes: list[tuple[int, int]] = []
    for fold in range(FOLDS):
        train = train_lines([index for index, line_fold in enumerate(folds) if line_fold != fold])
        test = [line for line, line_fold in zip(lines, folds, strict=True) if line_fold == fold]
        _, version, _ = train_version(rekognition, server_dir, f"{project}-fold-{fold}", train, test)
        summary = version["EvaluationResult"]
        scores.append({"F1": summary["F1Score"], **per_label_f1(server_dir, summary)})
        sizes.append((len(train), len(test)))
    return fold_row(project, scores, sizes)


def per_label_f1(server_dir: Path, evaluation: dict) -> dict[str, float]:
    """Each label's F1 from the evaluation's Summary file in the output bucket."""
    summary = evaluation_summary(server_dir, evaluation)
    return {item["Label"]: item["Metrics"]["F1Score"] for item in summary["LabelEvaluationResults"]}


def run(data_dir: Path = DATA_DIR) -> list[dict[str, object]]:
    with served_folder("reko-bench-custom-folds-") as (server_dir, rekognition):
        bucket_dir = server_dir / "s3" / BUCKET
        crops = mask_crops(data_dir, bucket_dir)
        photo_fold = mask_folds(crops)
        mask_lines = [line for _, _, line in crops]
        mask_fold_of = [photo_fold[photo] for photo, _, _ in crops]
        hats = hard_hat_lines(data_dir, bucket_dir)
        hat_folds = [index % FOLDS for index in range(len(hats))]
        return [
            cross_validate(rekognition, server_dir, "face-masks", mask_lines, mask_fold_of,
                           lambda kept: capped_training(crops[index] for index in kept)),
            cross_validate(rekognition, server_dir, "hard-hats", hats, hat_folds,
                           lambda kept: [hats[index] for index in kept]),
        ]


def main() -> None:
    rows = run()
    print(report.markdown(rows))
    report.save("custom_labels_folds", rows)


if __name__ == "__main__":
    main()
