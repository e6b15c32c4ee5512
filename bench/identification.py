"""Identification with a face collection on LFW View-2 folds 1-2: who of the indexed people is this?

Each person with at least 2 photos has the first of them indexed (the gallery); each of their other photos is a probe
that should find them. People with a single photo are never indexed: their photos are probes that should find
nobody. A probe is scored as `SearchFacesByImage` scores it: the most similar gallery face (exact search), its cosine
turned into Similarity.

Two ways of reading the thresholds:
- "shipped map": Similarity from the shipped map (`similarity_percents`), which was fitted on these same folds'
  pairs (`scripts.fit_similarity`): in-sample.
- "held out": for each fold, the map is fitted on the other fold's impostor pairs only (the folds share no person)
  and identification runs among the fold's own people; the two folds' counts are added. Nothing of the people
  scored was seen by the fit.

A gallery per fold holds about half the people, so a stranger has fewer faces to be mistaken for: compare the
held-out row with the per-fold row of the shipped map, not with the one-gallery row.

Rank-1 accuracy (the most similar gallery face is the right person, no threshold) depends on no map. The face of
each photo is the one nearest the centre (`bench.face_compare.reko_faces`, as the fit uses), where the operation
takes the largest.

Run: `.venv/bin/python -m bench --only identification` (~2 min on 2 cores).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.datasets import DATA_DIR
from bench.face_compare import LfwFaces, LfwFolds, all_pairs, cosine_matrix, load_lfw, reko_faces
from reko.operations.faces.similarity import COSINE_ANCHORS, SIMILARITY_ANCHORS
from scripts.fit_similarity import fit_anchors

THRESHOLDS = (80.0, 99.0)


def split(people: np.ndarray, usable: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Gallery images (first photo of each person with >= 2), their probes, and never-indexed probes."""
    by_person: dict[str, list[int]] = defaultdict(list)
    for index in np.flatnonzero(usable):
        by_person[str(people[index])].append(int(index))
    gallery = [images[0] for images in by_person.values() if len(images) >= 2]
    probes = [index for images in by_person.values() if len(images) >= 2 for index in images[1:]]
    strangers = [images[0] for images in by_person.values() if len(images) == 1]
    return gallery, probes, strangers


def identify(
    lfw: LfwFolds, faces: LfwFaces, usable: np.ndarray, anchors: tuple[np.ndarray, np.ndarray]
) -> dict[str, int]:
    """Counts of one identification run among the `usable` images, Similarity by the (cosines, levels) anchors."""
    gallery, probes, strangers = split(lfw.people, usable)
    vectors = faces.embeddings[gallery]
    known = faces.embeddings[probes] @ vectors.T
    unknown_best = (faces.embeddings[strangers] @ vectors.T).max(axis=1)
    right = lfw.people[gallery][known.argmax(axis=1)] == lfw.people[probes]
    best = np.interp(known.max(axis=1), *anchors)
    counts = {"gallery": len(gallery), "probes": len(probes), "strangers": len(strangers), "rank1": int(right.sum())}
    for threshold in THRESHOLDS:
        counts[f"hits@{threshold:.0f}"] = int((right & (best >= threshold)).sum())
        counts[f"false@{threshold:.0f}"] = int((np.interp(unknown_best, *anchors) >= threshold).sum())
    return counts


def held_out_anchors(
    lfw: LfwFolds, faces: LfwFaces, cosines: np.ndarray, fit_fold: int
) -> tuple[np.ndarray, np.ndarray]:
    """The Similarity map fitted on one fold's impostor pairs alone."""
    _, impostor = all_pairs(cosines, lfw.people, faces.found & (lfw.image_folds == fit_fold))
    fitted = fit_anchors(impostor)
    levels = np.array([0.0, *fitted.keys(), 100.0])
    return np.array([-1.0, *fitted.values(), 1.0]), levels


def row(name: str, counts: dict[str, int]) -> dict[str, object]:
    probes, strangers = counts["probes"], counts["strangers"]
    result: dict[str, object] = {
        "thresholds from": name,
        "gallery": counts["gallery"],
        "probes": probes,
        "never indexed": strangers,
        "rank-1 %": round(100 * counts["rank1"] / probes, 2),
    }
    for threshold in THRESHOLDS:
        result[f"hit % @{threshold:.0f}"] = round(100 * counts[f"hits@{threshold:.0f}"] / probes, 2)
        result[f"false match % @{threshold:.0f}"] = round(100 * counts[f"false@{threshold:.0f}"] / strangers, 2)
    return result


def run(data_dir: Path = DATA_DIR) -> list[dict[str, object]]:
    lfw = load_lfw(data_dir)
    faces = reko_faces(lfw)
    shipped_map = (COSINE_ANCHORS, SIMILARITY_ANCHORS)
    cosines = cosine_matrix(faces.embeddings)
    per_fold: dict[str, int] = defaultdict(int)
    held_out: dict[str, int] = defaultdict(int)
    for fold in (0, 1):
        in_fold = faces.found & (lfw.image_folds == fold)
        for key, value in identify(lfw, faces, in_fold, shipped_map).items():
            per_fold[key] += value
        anchors = held_out_anchors(lfw, faces, cosines, fit_fold=1 - fold)
        for key, value in identify(lfw, faces, in_fold, anchors).items():
            held_out[key] += value
    return [
        row("shipped map, one gallery of both folds (in-sample)", identify(lfw, faces, faces.found, shipped_map)),
        row("shipped map, a gallery per fold (in-sample)", dict(per_fold)),
        row("held out: map fitted on the other fold, a gallery per fold", dict(held_out)),
    ]
