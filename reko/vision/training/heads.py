"""Independent logistic heads, one per label, over standardised frozen features, and the threshold of each.

One binary head per label (not one softmax) because Custom Labels' labels are not exclusive: an image may carry
several, or none, and each label's Confidence must mean "this label applies". A label's threshold (the "assumed
threshold" of the evaluation) is the one that maximises its F1 on out-of-fold probabilities of the training data,
so the test data stays unseen until the evaluation.

Also keeping a label only when it is the image's most probable one, where the training labels are exclusive (as
with / without mask are): nested 5-fold CV inside the 82 face-mask training crops, 6 repeats, macro F1 0.928 ± 0.006
without it, 0.931 ± 0.010 with it (load ~5 on 2 cores): no gain, so labels stay independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Inverse L2 strength of each head. On mask / no-mask crops (bench/custom_labels.py) C from 0.1 to 1 gave the
# same held-back F1 within 0.01; 0.5 is in that flat range.
HEAD_C = 0.5
HEAD_MAX_ITERATIONS = 500
THRESHOLD_FOLDS = 5
DEFAULT_THRESHOLD = 0.5  # when a label has too few examples to cross-validate


@dataclass(frozen=True)
class LinearHeads:
    """k logistic heads: p = sigmoid(((x - mean) / scale) @ weights + bias).

    Attributes:
        mean, scale: (d,) feature standardisation.
        weights: (d, k); bias: (k,).
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        d, k = self.weights.shape
        if self.mean.shape != (d,) or self.scale.shape != (d,) or self.bias.shape != (k,):
            raise ValueError(f"inconsistent head shapes {self.mean.shape} {self.scale.shape} {self.weights.shape}")

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, k) probabilities for (n, d) features."""
        logits = ((features - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))


def fit_heads(
    features: np.ndarray, targets: np.ndarray, c: float = HEAD_C, balanced: bool = True
) -> LinearHeads:
    """One logistic head per column of `targets`.

    Args:
        features: (n, d) float32.
        targets: (n, k) bool; every column must have positives and negatives.
        c: inverse L2 strength.
        balanced: weigh each class by the inverse of its frequency (images of a rare label count as much).
    """
    from sklearn.linear_model import LogisticRegression  # only training needs it: 1.7 s off every server start

    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    standard = (features - mean) / scale
    weights = np.zeros((features.shape[1], targets.shape[1]), np.float32)
    bias = np.zeros(targets.shape[1], np.float32)
    for column in range(targets.shape[1]):
        model = LogisticRegression(C=c, max_iter=HEAD_MAX_ITERATIONS, class_weight="balanced" if balanced else None)
        model.fit(standard, targets[:, column])
        weights[:, column] = model.coef_[0]
        bias[column] = model.intercept_[0]
    return LinearHeads(mean.astype(np.float32), scale.astype(np.float32), weights, bias)


def fit_view_heads(views: np.ndarray, targets: np.ndarray) -> LinearHeads:
    """One logistic head per label over every view of every image.

    Args:
        views: (n, v, d) features of v views of each of n images.
        targets: (n, k) bool, shared by an image's views.
    """
    count, view_count, dimensions = views.shape
    return fit_heads(views.reshape(count * view_count, dimensions), np.repeat(targets, view_count, axis=0))


def view_probabilities(heads: LinearHeads, views: np.ndarray) -> np.ndarray:
    """(n, k) mean probabilities over the (n, v, d) views of each image."""
    count, view_count, dimensions = views.shape
    return heads.probabilities(views.reshape(count * view_count, dimensions)).reshape(count, view_count, -1).mean(
        axis=1)


def out_of_fold_probabilities(views: np.ndarray, targets: np.ndarray, serving_views: int) -> np.ndarray | None:
    """(n, k) probabilities, each from heads fitted without any view of its image; None when a label has too few
    examples.

    Args:
        views: (n, v, d) features of each training image's views; the first `serving_views` are judged.
        targets: (n, k) bool.
    """
    counts = np.minimum(targets.sum(axis=0), (~targets).sum(axis=0))
    folds = int(min(THRESHOLD_FOLDS, counts.min()))
    if folds < 2:
        return None
    from sklearn.model_selection import StratifiedKFold  # only training needs it: 1.7 s off every server start

    result = np.zeros(targets.shape, np.float32)
    # stratified on the first label; each fold is checked to keep both classes of every label
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, held in splitter.split(views, targets[:, 0]):
        part = targets[train]
        if (part.sum(axis=0) == 0).any() or ((~part).sum(axis=0) == 0).any():
            return None
        result[held] = view_probabilities(fit_view_heads(views[train], part), views[held, :serving_views])
    return result


def best_thresholds(probabilities: np.ndarray | None, targets: np.ndarray) -> np.ndarray:
    """(k,) threshold per label maximising its F1 on `probabilities`; DEFAULT_THRESHOLD without them."""
    if probabilities is None:
        return np.full(targets.shape[1], DEFAULT_THRESHOLD, np.float32)
    thresholds = np.zeros(targets.shape[1], np.float32)
    for column in range(targets.shape[1]):
        thresholds[column] = best_threshold(probabilities[:, column], targets[:, column])
    return thresholds


def best_threshold(scores: np.ndarray, truth: np.ndarray, total_positives: int | None = None) -> float:
    """The score threshold with the highest F1 (midway to the next lower score, so small shifts keep it).

    Args:
        scores: (n,) candidate scores; truth: (n,) whether each is right.
        total_positives: how many positives exist (detection: ground-truth boxes, some never scored);
            the count of true `truth` when None.
    """
    if len(scores) == 0:
        return DEFAULT_THRESHOLD
    order = np.argsort(-scores, kind="stable")
    sorted_scores, hits = scores[order], truth[order].astype(np.float64)
    positives = float(truth.sum() if total_positives is None else total_positives)
    true_positives = np.cumsum(hits)
    f1 = 2 * true_positives / (np.arange(1, len(scores) + 1) + max(positives, 1.0))
    best = int(np.argmax(f1))
    below = sorted_scores[best + 1] if best + 1 < len(sorted_scores) else 0.0
    return float((sorted_scores[best] + below) / 2)


@dataclass(frozen=True)
class SoftmaxHead:
    """One multinomial logistic regression over exclusive classes: p = softmax(((x - mean) / scale) @ weights + bias).

    Attributes:
        mean, scale: (d,) feature standardisation.
        weights: (d, c); bias: (c,), one column a class.
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: np.ndarray

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, c) probabilities for (n, d) features; each row sums to 1."""
        logits = ((features - self.mean) / self.scale) @ self.weights + self.bias
        logits = logits - logits.max(axis=1, keepdims=True)
        exponentials = np.exp(logits)
        return np.asarray(exponentials / exponentials.sum(axis=1, keepdims=True))


ABSENT_CLASS_BIAS = -30.0  # a class no training example had: its probability stays ~1e-13


def fit_softmax_head(features: np.ndarray, classes: np.ndarray, class_count: int, c: float) -> SoftmaxHead:
    """A softmax head over `class_count` classes from (n, d) features and their (n,) class indices (at least two
    classes present; a class never seen is kept, never predicted)."""
    from sklearn.linear_model import LogisticRegression  # only training needs it: 1.7 s off every server start

    if len(np.unique(classes)) < 2:
        raise ValueError("a softmax head needs examples of two classes at least")
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    model = LogisticRegression(C=c, max_iter=HEAD_MAX_ITERATIONS).fit((features - mean) / scale, classes)
    seen = model.classes_.astype(int)
    coefficients, intercepts = model.coef_, model.intercept_
    if len(seen) == 2:  # scikit-learn keeps one logit for two classes: the second's against the first's
        coefficients = np.stack([np.zeros_like(coefficients[0]), coefficients[0]])
        intercepts = np.array([0.0, intercepts[0]])
    weights = np.zeros((features.shape[1], class_count), np.float32)
    bias = np.full(class_count, ABSENT_CLASS_BIAS, np.float32)
    weights[:, seen] = coefficients.T
    bias[seen] = intercepts
    return SoftmaxHead(mean.astype(np.float32), scale.astype(np.float32), weights, bias)
