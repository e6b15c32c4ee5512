"""Precision, recall and F1 of a trained model on its test data, per label, as the evaluation reports them.

Classification: an image counts for a label when the label's probability reaches its threshold. Detection: a
box above its label's threshold is right when it overlaps a ground-truth box of the same label by IoU >= 0.5 not
already matched by a higher-scored box (the PASCAL VOC rule); every ground-truth box left unmatched is a miss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MATCH_IOU = 0.5


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    threshold: float  # probability, 0-1
    test_images: int  # test images that carry the label


@dataclass
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def score(self, label: str, threshold: float, test_images: int) -> LabelScore:
        found = self.true_positives + self.false_positives
        actual = self.true_positives + self.false_negatives
        precision = self.true_positives / found if found else 0.0
        recall = self.true_positives / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return LabelScore(label, precision, recall, f1, threshold, test_images)


def classification_scores(
    probabilities: np.ndarray, targets: np.ndarray, thresholds: np.ndarray, labels: list[str]
) -> list[LabelScore]:
    """Per-label scores of (n, k) probabilities against (n, k) bool targets."""
    predicted = probabilities >= thresholds
    scores = []
    for column, label in enumerate(labels):
        truth = targets[:, column]
        counts = Counts(
            int((predicted[:, column] & truth).sum()), int((predicted[:, column] & ~truth).sum()),
            int((~predicted[:, column] & truth).sum()),
        )
        scores.append(counts.score(label, float(thresholds[column]), int(truth.sum())))
    return scores


def box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one (4,) xyxy box with (m, 4) xyxy boxes."""
    if len(others) == 0:
        return np.zeros(0)
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    overlap = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return np.asarray(overlap / np.maximum(area + areas - overlap, 1e-9))


def match_boxes(found: np.ndarray, scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(m,) bool: whether each found xyxy box (m, 4) matches a distinct truth box (t, 4), best scores first."""
    taken = np.zeros(len(truth), bool)
    hits = np.zeros(len(found), bool)
    for index in np.argsort(-scores, kind="stable"):
        overlaps = box_iou(found[index], truth)
        overlaps[taken] = 0
        if len(overlaps) and overlaps.max() >= MATCH_IOU:
            taken[int(overlaps.argmax())] = True
            hits[index] = True
    return hits


def macro_f1(scores: list[LabelScore]) -> float:
    """The model's F1: the mean of its labels' F1 (each label counts the same, however frequent)."""
    return float(np.mean([score.f1 for score in scores])) if scores else 0.0
