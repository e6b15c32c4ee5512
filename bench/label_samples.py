"""Score the hand-labelled faces per `sample` kind, so the random sample is reported on its own.

Every file in `bench/labels/` mixes faces drawn without looking at them (`random`; in face_expressions.csv also
`all`: every AFW face and every WIDER face of at least 60 px) with faces added because they were expected to be
rare cases (`picked`, `enriched`). An accuracy over the mix reflects neither the everyday share of positives nor
the everyday errors; the rows here give both views: every face, the unselected faces alone, and each kind.
Held-out probabilities must come from folds over every face (refitting per subset would change the models):
these helpers only choose which faces a row counts. See `bench/labels/LABELLING.md` for how each kind was drawn.

Example, in a suite that has per-face 0/1 labels, held-out probabilities and each face's sample kind:

    rows += score_by_sample(score_row, labels, probabilities, samples, attribute="smile")
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

EVERY_FACE = "every face"
UNSELECTED = "unselected"  # the union of UNSELECTED_KINDS: the faces whose mix of values is not steered
# Kinds drawn without looking at the faces' values: `random` (seeded random faces) and `all` (every face of a set).
UNSELECTED_KINDS = frozenset({"random", "all"})
MIN_SUBSET_FACES = 1

Scorer = Callable[..., dict[str, object]]


def read_samples(labels_csv: Path) -> list[str]:
    """The `sample` column of a label file, in file order (faces without one read as "unknown")."""
    with labels_csv.open(newline="") as handle:
        return [row.get("sample") or "unknown" for row in csv.DictReader(handle)]


def subset_masks(samples: Sequence[str]) -> dict[str, np.ndarray]:
    """Boolean masks over the faces: every face, the unselected ones, then one per kind (sorted by name).

    Args:
        samples: each face's sample kind, e.g. ["random", "picked", "random"].

    Returns:
        name -> (n,) bool mask; the unselected mask is left out when it would equal every face or select nothing.
    """
    kinds = np.asarray(samples, dtype=object)
    masks = {EVERY_FACE: np.ones(len(kinds), bool)}
    unselected = np.isin(kinds, sorted(UNSELECTED_KINDS))
    if unselected.any() and not unselected.all():
        masks[UNSELECTED] = unselected
    for kind in sorted(set(samples)):
        masks[kind] = kinds == kind
    return masks


def score_by_sample(score: Scorer, labels: np.ndarray, probabilities: np.ndarray, samples: Sequence[str],
                    **identity: object) -> list[dict[str, object]]:
    """One `score(labels, probabilities, **identity, sample=subset)` row per subset of `subset_masks`.

    Args:
        score: a row maker such as `bench.metrics.score_row`.
        labels: (n,) 0/1 labels.
        probabilities: (n,) held-out probabilities of the positive value.
        samples: n sample kinds, aligned with `labels`.
        identity: what is scored (attribute, method, …), passed through to every row.
    """
    if not len(labels) == len(probabilities) == len(samples):
        raise ValueError(f"{len(labels)} labels, {len(probabilities)} probabilities, {len(samples)} sample kinds")
    rows = []
    for name, mask in subset_masks(samples).items():
        if mask.sum() >= MIN_SUBSET_FACES:
            rows.append(score(labels[mask], probabilities[mask], **identity, sample=name))
    return rows
