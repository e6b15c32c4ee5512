"""The metrics of every benchmark and training script: detection (one-to-one matching, precision-recall curves,
average precision) and yes/no estimators (grouped folds, out-of-fold heads, AUC), one way for all.

IoU itself lives in `reko.vision.boxes` (the detector needs it too); this module builds on it. A yes/no head is a
logistic regression on standardised features (scikit-learn); folds never split a group (an LFW person, a photo)
and keep each fold's share of positives close to the whole's. Where a hyper-parameter (the L2 strength C) is
chosen, `nested_out_of_fold` chooses it inside each outer training fold, so the held-out scores never saw the
choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from reko.vision.boxes import iou_matrix

IOU_MATCH = 0.5


def match_detections(
    boxes: np.ndarray, scores: np.ndarray, truth: np.ndarray, iou_threshold: float = IOU_MATCH
) -> np.ndarray:
    """Greedy one-to-one matching, best-scored detection first (the PASCAL VOC rule).

    Each detection, in descending score order, takes the still-unmatched ground-truth box it overlaps most,
    if that overlap is at least `iou_threshold`. Because better detections choose first, the matches of the
    detections above any score do not depend on the detections below it, so one matching serves a whole
    precision-recall curve.

    Args:
        boxes: (n, 4) xyxy detections.
        scores: (n,) their confidences.
        truth: (m, 4) xyxy ground-truth boxes.

    Returns:
        (n,) int64: the index of the ground-truth box each detection matched, -1 for none.
    """
    matched = np.full(len(boxes), -1, np.int64)
    if not len(boxes) or not len(truth):
        return matched
    overlaps = iou_matrix(boxes, truth)
    taken = np.zeros(len(truth), bool)
    for index in np.argsort(-np.asarray(scores), kind="stable"):
        candidates = np.where(taken, -1.0, overlaps[index])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold:
            matched[index] = best
            taken[best] = True
    return matched


@dataclass(frozen=True)
class PrecisionRecallCurve:
    """Operating points of one detector on one set, highest threshold first.

    Attributes:
        thresholds: (k,) score thresholds, descending; each point keeps detections scoring >= its threshold.
        precision: (k,) matched detections over detections.
        recall: (k,) found positives over positives.
    """

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray

    def __post_init__(self) -> None:
        k = len(self.thresholds)
        if self.precision.shape != (k,) or self.recall.shape != (k,):
            raise ValueError(f"inconsistent curve: {k} thresholds, {self.precision.shape}, {self.recall.shape}")

    def at(self, threshold: float) -> tuple[float, float] | None:
        """(precision, recall) at the lowest sampled threshold >= `threshold`; None when none is."""
        above = np.flatnonzero(self.thresholds >= threshold - 1e-9)
        if not len(above):
            return None
        last = int(above[-1])
        return float(self.precision[last]), float(self.recall[last])


def curve_from_counts(
    thresholds: np.ndarray, matched: np.ndarray, detections: np.ndarray, found: np.ndarray, positives: int
) -> PrecisionRecallCurve:
    """A curve from counts taken at each threshold; thresholds with no detection are left out.

    Args:
        thresholds: (k,) score thresholds, any order.
        matched: (k,) detections matching any ground-truth box (not false positives) at each threshold.
        detections: (k,) all detections at each threshold.
        found: (k,) positives found at each threshold (the recall's numerator).
        positives: the recall's denominator.
    """
    order = np.argsort(-np.asarray(thresholds, np.float64), kind="stable")
    keep = order[np.asarray(detections)[order] > 0]
    return PrecisionRecallCurve(
        thresholds=np.asarray(thresholds, np.float64)[keep],
        precision=np.asarray(matched, np.float64)[keep] / np.asarray(detections, np.float64)[keep],
        recall=np.asarray(found, np.float64)[keep] / max(positives, 1),
    )


def precision_recall_curve(
    scores: np.ndarray, matched: np.ndarray, found: np.ndarray, positives: int
) -> PrecisionRecallCurve:
    """The curve of pooled detections, one point per distinct score.

    Args:
        scores: (n,) confidences of every detection of the set.
        matched: (n,) bool, the detection matched a ground-truth box (it is not a false positive).
        found: (n,) bool, the detection matched a positive (a box that counts for recall); implies `matched`.
        positives: how many positives the set holds.
    """
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    sorted_scores = np.asarray(scores, np.float64)[order]
    # The last detection of each run of equal scores closes that threshold's point.
    last_of_score = np.flatnonzero(np.append(np.diff(sorted_scores) != 0, len(sorted_scores) > 0))
    return curve_from_counts(
        sorted_scores[last_of_score],
        np.cumsum(np.asarray(matched)[order])[last_of_score],
        last_of_score + 1,
        np.cumsum(np.asarray(found)[order])[last_of_score],
        positives,
    )


def average_precision(curve: PrecisionRecallCurve) -> float:
    """Area under the curve with all-point interpolation (PASCAL VOC 2010 on, as in COCO before sampling).

    Precision at a recall is taken as the best precision at that recall or any higher one (the curve's
    monotone envelope), then integrated over the recall steps from 0 to the highest recall reached. Recall
    the detector never reaches adds nothing, so a curve cut off at a high threshold scores lower.
    """
    if not len(curve.recall):
        return 0.0
    order = np.argsort(curve.recall, kind="stable")
    recall = curve.recall[order]
    envelope = np.maximum.accumulate(curve.precision[order][::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(steps * envelope))


def recall_at_precision(curve: PrecisionRecallCurve, min_precision: float) -> float | None:
    """The highest recall of any operating point with precision >= `min_precision`; None if none reaches it."""
    reaching = curve.precision >= min_precision
    return float(curve.recall[reaching].max()) if reaching.any() else None


# Yes/no estimators.
FOLDS = 5
INNER_FOLDS = 3  # nested CV refits a head FOLDS x INNER_FOLDS x len(cs) times: 654-d heads take ~1 s each
SEED = 0
MAX_ITERATIONS = 100
# Newton steps to a tight tolerance: the shipped heads must come out the same from every refit (lbfgs at its
# default tolerance stopped up to 0.1 short on a bias).
TOLERANCE = 1e-8


def logistic_model(c: float) -> Pipeline:
    """Standardise, then an L2 logistic regression (intercept unpenalised) of strength 1 / c."""
    regression = LogisticRegression(C=c, solver="newton-cholesky", tol=TOLERANCE, max_iter=MAX_ITERATIONS)
    return make_pipeline(StandardScaler(), regression)


def grouped_folds(labels: np.ndarray, groups: Sequence[str], folds: int = FOLDS, seed: int = SEED) -> np.ndarray:
    """Fold index per sample: groups never straddle folds, positives spread evenly."""
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    fold_of = np.zeros(len(labels), np.int64)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(labels)), labels, list(groups))):
        fold_of[test] = fold
    return fold_of


def out_of_fold(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, c: float) -> np.ndarray:
    """Each sample's probability from a head fitted without its fold."""
    probabilities = np.zeros(len(labels))
    for fold in np.unique(folds):
        test = folds == fold
        model = logistic_model(c).fit(features[~test], labels[~test])
        probabilities[test] = model.predict_proba(features[test])[:, 1]
    return probabilities


def nested_out_of_fold(
    features: np.ndarray, labels: np.ndarray, groups: Sequence[str], folds: np.ndarray, cs: Sequence[float]
) -> tuple[np.ndarray, list[float]]:
    """Held-out probabilities with C chosen (by grouped inner CV, log-loss) inside each outer training fold.

    Returns:
        (n,) probabilities, and the C chosen for each outer fold.
    """
    probabilities = np.zeros(len(labels))
    chosen: list[float] = []
    group_array = np.asarray(groups)
    for fold in np.unique(folds):
        test = folds == fold
        inner = StratifiedGroupKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=SEED)
        search = GridSearchCV(
            logistic_model(cs[0]), {"logisticregression__C": list(cs)}, scoring="neg_log_loss", cv=inner
        )
        search.fit(features[~test], labels[~test], groups=group_array[~test])
        probabilities[test] = search.predict_proba(features[test])[:, 1]
        chosen.append(float(search.best_params_["logisticregression__C"]))
    return probabilities, chosen


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores))


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
