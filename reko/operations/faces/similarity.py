"""CompareFaces' `Similarity`: a calibrated, monotone map of the embedding cosine to 0-100.

A raw cosine means nothing to a user; Rekognition users read Similarity as "how sure is it the same person" and
pick thresholds like 80 (the default) or 99 (what AWS recommends for identity checks). So the map is pinned at
points measured on impostor pairs (two different people): at Similarity 80 the false-accept rate is 1e-3, at 90
it is 1e-4, at 99 it is 1e-5; between anchors it is linear in the cosine, so it is monotone and continuous.

PROVISIONAL anchors: to be replaced by the fit of `scripts/fit_similarity.py` (LFW folds 1-2, every impostor pair).
"""

from __future__ import annotations

import numpy as np

# (cosine, Similarity) anchor points, increasing in both.
COSINE_ANCHORS = np.array([-1.0, 0.0, 0.30, 0.36, 0.42, 1.0])
SIMILARITY_ANCHORS = np.array([0.0, 20.0, 80.0, 90.0, 99.0, 100.0])


def similarity_percent(cosine: float) -> float:
    """Similarity in [0, 100] for the cosine of two unit face embeddings."""
    return float(np.interp(cosine, COSINE_ANCHORS, SIMILARITY_ANCHORS))
