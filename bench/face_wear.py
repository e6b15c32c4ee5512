"""Cross-validated accuracy of the Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded heads.

Each head is refitted inside 5 folds grouped by person (LFW) or photo (elsewhere), exactly as
`scripts/train_face_wear.py` fits the shipped one, and scored on the held-out fold at threshold 0.5.
Occlusion is scored separately on the mask set and on the hand-labelled faces.

Run from the repository root: `.venv/bin/python -m bench.face_wear [DATA_DIR]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bench import report
from scripts.train_face_wear import DEFAULT_DATA_DIR, L2_PENALTY, LabelledFace, fit_logistic, training_sets

FOLDS = 5


def grouped_folds(groups: list[str], folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """Fold index per sample; every member of a group lands in the same fold."""
    names = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {names[i]: rank % folds for rank, i in enumerate(order)}
    return np.array([fold_of[group] for group in groups])


def out_of_fold(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, l2_penalty: float) -> np.ndarray:
    """Held-out probability for every sample."""
    probabilities = np.zeros(len(labels))
    for fold in np.unique(folds):
        test = folds == fold
        head = fit_logistic(features[~test], labels[~test], l2_penalty)
        probabilities[test] = head.probability(features[test])
    return probabilities


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if not len(positives) or not len(negatives):
        return float("nan")
    above = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives).sum()
    return float(above / (len(positives) * len(negatives)))


def score_row(name: str, subset: str, labels: np.ndarray, probabilities: np.ndarray) -> dict[str, object]:
    predicted = probabilities >= 0.5
    positives = int(labels.sum())
    true_positives = int((predicted & (labels == 1)).sum())
    return {
        "attribute": name,
        "subset": subset,
        "faces": len(labels),
        "positives": positives,
        "accuracy": round(float((predicted == (labels == 1)).mean()), 4),
        "majority_accuracy": round(float(max(positives, len(labels) - positives) / len(labels)), 4),
        "recall": round(true_positives / positives, 4) if positives else None,
        "precision": round(true_positives / int(predicted.sum()), 4) if predicted.any() else None,
        "auc": round(auc(labels, probabilities), 4),
    }


def run(data_dir: Path) -> list[dict[str, object]]:
    """One row per attribute (and per subset for occlusion) of cross-validated scores."""
    rows = []
    for name, (faces, features, labels) in training_sets(data_dir).items():
        folds = grouped_folds([face.group for face in faces])
        probabilities = out_of_fold(features, labels, folds, L2_PENALTY[name])
        for subset in _subsets(name, faces):
            chosen = np.array([face.source == subset or subset == "all" for face in faces])
            rows.append(score_row(name, subset, labels[chosen], probabilities[chosen]))
    return rows


def _subsets(name: str, faces: list[LabelledFace]) -> list[str]:
    return ["mask", "labelled"] if name == "occluded" else ["labelled"]



def main(argv: list[str]) -> None:
    data_dir = Path(argv[0]) if argv else DEFAULT_DATA_DIR
    if not data_dir.is_dir():
        raise SystemExit(f"no evaluation data at {data_dir}")
    rows = run(data_dir)
    report.save("face_wear", rows)
    sys.stdout.write(report.markdown(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
