"""Scoring and fitting yes/no estimators, one way for every bench and training script (scikit-learn).

A head is a logistic regression on standardised features; folds never split a group (an LFW person, a
photo) and keep each fold's share of positives close to the whole's. Where a hyper-parameter (the L2
strength C) is chosen, `nested_out_of_fold` chooses it inside each outer training fold, so the held-out
scores never saw the choice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

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
