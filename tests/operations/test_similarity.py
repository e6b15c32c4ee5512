"""CompareFaces' Similarity map: monotone, bounded, pinned at its anchors; and on real LFW pairs, it separates."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PIL import Image

from bench.face_compare import load_lfw
from reko.operations.faces.similarity import (
    COSINE_ANCHORS,
    FALSE_ACCEPT_RATE_BY_SIMILARITY,
    SIMILARITY_ANCHORS,
    cosine_at_similarity,
    similarity_percent,
    similarity_percents,
)
from reko.pipelines.faces import Needs
from tests.conftest import SHARED_DATA, needs_shared_data, shared_face_pipeline

DEFAULT_SIMILARITY_THRESHOLD = 80.0  # CompareFaces' default SimilarityThreshold
PAIRS_PER_CLASS = 50


def test_the_map_is_strictly_increasing_and_within_0_and_100() -> None:
    cosines = np.linspace(-1.5, 1.5, 3001)  # beyond [-1, 1] too: rounding can push a cosine past 1
    values = similarity_percents(cosines)
    assert values.min() == 0.0 and values.max() == 100.0
    inside = values[(cosines > -1) & (cosines < 1)]
    assert np.all(np.diff(inside) > 0)
    assert [similarity_percent(c) for c in cosines[::100]] == list(values[::100])


@pytest.mark.parametrize(("cosine", "similarity"), list(zip(COSINE_ANCHORS, SIMILARITY_ANCHORS, strict=True)))
def test_anchors_are_hit_exactly(cosine: float, similarity: float) -> None:
    assert similarity_percent(cosine) == similarity
    assert cosine_at_similarity(similarity) == cosine


def test_every_false_accept_rate_has_its_anchor_and_rarer_rates_sit_higher() -> None:
    anchored = dict(zip(SIMILARITY_ANCHORS, COSINE_ANCHORS, strict=True))
    assert set(FALSE_ACCEPT_RATE_BY_SIMILARITY) <= set(anchored)
    levels = sorted(FALSE_ACCEPT_RATE_BY_SIMILARITY)
    rates = [FALSE_ACCEPT_RATE_BY_SIMILARITY[level] for level in levels]
    assert rates == sorted(rates, reverse=True)
    assert COSINE_ANCHORS[0] == -1.0 and COSINE_ANCHORS[-1] == 1.0


def test_the_default_threshold_is_the_cosine_of_a_1e_3_false_accept_rate() -> None:
    assert FALSE_ACCEPT_RATE_BY_SIMILARITY[DEFAULT_SIMILARITY_THRESHOLD] == 1e-3
    threshold = cosine_at_similarity(DEFAULT_SIMILARITY_THRESHOLD)
    assert threshold == COSINE_ANCHORS[list(SIMILARITY_ANCHORS).index(DEFAULT_SIMILARITY_THRESHOLD)]
    assert similarity_percent(threshold) == DEFAULT_SIMILARITY_THRESHOLD
    assert similarity_percent(threshold - 1e-9) < DEFAULT_SIMILARITY_THRESHOLD


@pytest.mark.parametrize("similarity", [-0.1, 100.5])
def test_a_similarity_outside_0_100_has_no_cosine(similarity: float) -> None:
    with pytest.raises(ValueError, match="within"):
        cosine_at_similarity(similarity)


@functools.cache
def _subject_embedding(path: str) -> np.ndarray:
    """The embedding of the face nearest the image centre (LFW's subject), as CompareFaces computes it."""
    rgb = np.asarray(Image.open(path).convert("RGB"))
    faces = shared_face_pipeline().analyze(rgb, Needs(embedding=True))
    centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2])
    face = min(faces, key=lambda f: float(np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre)))
    assert face.embedding is not None
    return face.embedding


@needs_shared_data("faces", "lfw")
def test_lfw_pairs_separate_at_the_default_threshold() -> None:
    """The first 50 genuine and 50 impostor pairs of fold 1: impostors all below 80, genuine pairs nearly all above.

    These images are among those the anchors were fitted on; the check is that the shipped map and the shipped
    embedder agree, not an out-of-sample accuracy (bench/face_compare.py and scripts/fit_similarity.py report that).
    """
    lfw = load_lfw(SHARED_DATA)
    fold_one = np.flatnonzero(lfw.pair_folds == 0)
    genuine = [i for i in fold_one if lfw.same[i]][:PAIRS_PER_CLASS]
    impostor = [i for i in fold_one if not lfw.same[i]][:PAIRS_PER_CLASS]

    def similarity_of(pair: int) -> float:
        a, b = (str(lfw.root / lfw.images[i]) for i in lfw.pairs[pair])
        return similarity_percent(float(_subject_embedding(a) @ _subject_embedding(b)))

    genuine_scores = np.array([similarity_of(i) for i in genuine])
    impostor_scores = np.array([similarity_of(i) for i in impostor])
    assert impostor_scores.max() < DEFAULT_SIMILARITY_THRESHOLD
    assert (genuine_scores >= DEFAULT_SIMILARITY_THRESHOLD).mean() >= 0.9
    accuracy = ((genuine_scores >= DEFAULT_SIMILARITY_THRESHOLD).sum()
                + (impostor_scores < DEFAULT_SIMILARITY_THRESHOLD).sum()) / (2 * PAIRS_PER_CLASS)
    assert accuracy >= 0.9  # the majority baseline is 0.5
