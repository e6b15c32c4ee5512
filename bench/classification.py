"""Scoring yes/no estimators: grouped folds, AUC and one table row of accuracy figures."""

from __future__ import annotations

import numpy as np

FOLDS = 5


def grouped_folds(groups: list[str], folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """Fold index per sample; every member of a group (a person, a photo) lands in the same fold."""
    names = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {names[i]: rank % folds for rank, i in enumerate(order)}
    return np.array([fold_of[group] for group in groups])


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if not len(positives) or not len(negatives):
        return float("nan")
    above = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives).sum()
    return float(above / (len(positives) * len(negatives)))


def score_row(labels: np.ndarray, probabilities: np.ndarray, **identity: object) -> dict[str, object]:
    """`identity` (what was scored) followed by accuracy figures at the 0.5 threshold."""
    predicted = probabilities >= 0.5
    positives = int(labels.sum())
    negatives = len(labels) - positives
    true_positives = int((predicted & (labels == 1)).sum())
    true_negatives = int((~predicted & (labels == 0)).sum())
    return {
        **identity,
        "faces": len(labels),
        "positives": positives,
        "accuracy": round(float((predicted == (labels == 1)).mean()), 4),
        "majority_accuracy": round(max(positives, negatives) / len(labels), 4),
        "precision": round(true_positives / int(predicted.sum()), 4) if predicted.any() else None,
        "recall": round(true_positives / positives, 4) if positives else None,
        "negative_recall": round(true_negatives / negatives, 4) if negatives else None,
        "auc": round(auc(labels, probabilities), 4),
    }
