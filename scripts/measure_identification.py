"""Identification with a face collection on LFW View-2 folds 1-2: who of the indexed people is this?

Each person with at least 2 photos in ../shared/data/faces/lfw has the first of them "indexed" (the gallery); each
of their other photos is a probe that should find them. People with a single photo are never indexed: their photos
are probes that should find nobody. A probe is scored as `SearchFacesByImage` scores it: exact search over every
gallery vector, cosines turned into Similarity by the shipped map (`similarity_percents`).

Printed: rank-1 accuracy (the most similar gallery face is the right person, no threshold), the hit rate at
FaceMatchThreshold 80 and 99 (the top match is the right person and at or over the threshold), and the false-match
rate (share of never-indexed people's probes with any match at or over the threshold).

Caveats: the Similarity map was fitted on these same folds' pairs (`scripts.fit_similarity`), so the thresholded
figures are in-sample; rank-1 does not depend on the map. The face of each photo is the one nearest the centre
(`bench.face_compare.reko_faces`, as the fit uses), where the operation takes the largest.

Run from the repository root: `.venv/bin/python -m scripts.measure_identification` (~2 min on 2 cores).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench.face_compare import load_lfw, reko_faces
from reko.operations.faces.similarity import similarity_percents

THRESHOLDS = (80.0, 99.0)


def split(people: np.ndarray, found: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Gallery images (first photo of each person with >= 2), their probes, and never-indexed probes."""
    by_person: dict[str, list[int]] = defaultdict(list)
    for index in np.flatnonzero(found):
        by_person[str(people[index])].append(int(index))
    gallery = [images[0] for images in by_person.values() if len(images) >= 2]
    probes = [index for images in by_person.values() if len(images) >= 2 for index in images[1:]]
    strangers = [images[0] for images in by_person.values() if len(images) == 1]
    return gallery, probes, strangers


def main() -> None:
    lfw = load_lfw()
    faces = reko_faces(lfw)
    gallery, probes, strangers = split(lfw.people, faces.found)
    vectors = faces.embeddings[gallery]
    gallery_people = lfw.people[gallery]
    known = similarity_percents(faces.embeddings[probes] @ vectors.T)
    top = known.argmax(axis=1)
    right = gallery_people[top] == lfw.people[probes]
    unknown_best = similarity_percents(faces.embeddings[strangers] @ vectors.T).max(axis=1)
    print(f"images with a face: {int(faces.found.sum())} of {len(lfw.images)}; gallery {len(gallery)} people, "
          f"{len(probes)} probes of indexed people, {len(strangers)} probes of never-indexed people")
    print(f"rank-1 accuracy: {right.mean():.4f}")
    for threshold in THRESHOLDS:
        hits = right & (known.max(axis=1) >= threshold)
        false_matches = unknown_best >= threshold
        print(f"FaceMatchThreshold {threshold:.0f}: hit rate {hits.mean():.4f} ({int(hits.sum())}/{len(probes)}), "
              f"false-match rate {false_matches.mean():.4f} ({int(false_matches.sum())}/{len(strangers)})")


if __name__ == "__main__":
    main()
