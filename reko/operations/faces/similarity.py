"""CompareFaces' `Similarity`: a calibrated, monotone map of the embedding cosine to 0-100.

A raw cosine means nothing to a user; Rekognition users read Similarity as "how sure is it the same person" and
pick thresholds like 80 (the default) or 99 (what AWS recommends for identity checks). So the map is pinned at
cosines measured on impostor pairs (two different people): a pair scores at least 80 for at most 1e-3 of them, 90
for at most 1e-4, 99 for at most 1e-5 (and 70 for 1e-2, 50 for 1e-1; cosine -1 is 0 and 1 is 100). Between anchors
it is linear in the cosine, so it is monotone and continuous.

Fitted on LFW View-2 folds 1-2 (../shared/data/faces/lfw: 1,583 images, 844 people, a face found in every one;
1,250,180 impostor and 1,973 genuine pairs) by `.venv/bin/python -m scripts.fit_similarity`, with the shipped
embedder (SFace on mesh-point alignment). Each anchor is the smallest cosine whose false-accept rate there is within
its target, rounded up. On those same pairs (in-sample): TAR 99.24 % at 80 (FAR 1.0e-3), 98.18 % at 90 (9.8e-5),
96.86 % at 99 (9.6e-6, 12 impostor pairs). Out of sample (anchors fitted on one fold's people, measured on the
other's, both ways) the false-accept rate at 80 was 0.93e-3 and 1.0e-3, at 90 0.7e-4 and 1.3e-4, at 99 0.7e-5 and
1.9e-5: the low-rate anchors rest on few impostor pairs (12 in all at 1e-5) and can be off by about 2x on new people.
"""

from __future__ import annotations

import numpy as np

# Similarity -> the false-accept rate (share of impostor pairs at or above it) its anchor was fitted to.
FALSE_ACCEPT_RATE_BY_SIMILARITY = {50.0: 1e-1, 70.0: 1e-2, 80.0: 1e-3, 90.0: 1e-4, 99.0: 1e-5}
# (cosine, Similarity) anchor points, strictly increasing in both; the cosines printed by
# `python -m scripts.fit_similarity` (see above). Refit whenever the embedder or its alignment changes.
COSINE_ANCHORS = np.array([-1.0, 0.2100, 0.3006, 0.3679, 0.4232, 0.4719, 1.0])
SIMILARITY_ANCHORS = np.array([0.0, 50.0, 70.0, 80.0, 90.0, 99.0, 100.0])


def similarity_percent(cosine: float) -> float:
    """Similarity in [0, 100] for the cosine of two unit face embeddings."""
    return float(np.interp(cosine, COSINE_ANCHORS, SIMILARITY_ANCHORS))


def similarity_percents(cosines: np.ndarray) -> np.ndarray:
    """`similarity_percent` of every cosine of an array (same shape, float64)."""
    return np.interp(np.asarray(cosines, np.float64), COSINE_ANCHORS, SIMILARITY_ANCHORS)


def cosine_at_similarity(similarity: float) -> float:
    """The smallest cosine whose Similarity reaches `similarity` (0-100): a threshold in the embedding's terms."""
    if not 0.0 <= similarity <= 100.0:
        raise ValueError(f"similarity must be within [0, 100], got {similarity}")
    return float(np.interp(similarity, SIMILARITY_ANCHORS, COSINE_ANCHORS))
