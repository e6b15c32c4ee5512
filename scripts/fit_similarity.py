"""Fit the anchors of CompareFaces' Similarity map (`reko/operations/faces/similarity.py`) on LFW folds 1-2.

Every image of ../shared/data/faces/lfw (the 1,583 images of View-2 folds 1-2, 844 people) runs through the real
pipeline with the embedding (`bench.face_compare.reko_faces`: the face nearest the image centre). The cosine of every
two images of different people is an impostor score (1,250,180 pairs), of every two images of one person a genuine
score (1,973 pairs). Each anchor's cosine is the smallest cosine whose false-accept rate over the impostor pairs is
at most its target, so that "at Similarity 80 the FAR is <= 1e-3" holds on this data; written rounded up to
`DECIMALS` places, which keeps it so. The targets: 50 <-> 1e-1, 70 <-> 1e-2, 80 <-> 1e-3, 90 <-> 1e-4, 99 <-> 1e-5;
Similarity 0 is cosine -1 and 100 is cosine 1.

The printed TAR and FAR at each anchor are in-sample (fitted and measured on the same pairs). The 2-fold check fits
the anchors on the images of one fold's people alone (the folds share no person) and measures TAR and FAR on the
other fold's pairs, and the other way round: how well the rates hold on people the fit never saw. Each fold has
only ~300k impostor pairs, so its 1e-5 anchor rests on 3 impostors.

Run from the repository root: `.venv/bin/python -m scripts.fit_similarity [--data-dir DIR]` (~2 min on 2 cores).
It prints the constants and changes nothing: they are pasted into similarity.py by hand, citing this command.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from bench.datasets import DATA_DIR
from bench.face_compare import LfwFolds, accept_rate, all_pairs, cosine_matrix, load_lfw, reko_faces, threshold_at_far
from reko.operations.faces import similarity
from reko.operations.faces.similarity import FALSE_ACCEPT_RATE_BY_SIMILARITY as TARGET_FALSE_ACCEPT_RATES

DECIMALS = 4


def fit_anchors(impostor: np.ndarray) -> dict[float, float]:
    """Similarity -> cosine: the smallest cosine (rounded up) whose FAR over `impostor` is within the target."""
    scale = 10**DECIMALS
    return {
        level: math.ceil(threshold_at_far(impostor, rate) * scale) / scale
        for level, rate in TARGET_FALSE_ACCEPT_RATES.items()
    }


def rates_table(anchors: dict[float, float], genuine: np.ndarray, impostor: np.ndarray) -> list[str]:
    """One line per anchor: its cosine, TAR over `genuine`, FAR and impostors above it over `impostor`."""
    lines = []
    for level, cosine in anchors.items():
        above = int((impostor >= cosine).sum())
        lines.append(
            f"  Similarity {level:4.0f} (target FAR {TARGET_FALSE_ACCEPT_RATES[level]:.0e}): cosine {cosine:.4f}  "
            f"TAR {100 * accept_rate(genuine, cosine):6.2f} %  FAR {above / len(impostor):.1e} "
            f"({above:,} of {len(impostor):,} impostor pairs)"
        )
    return lines


def two_fold_check(lfw: LfwFolds, cosines: np.ndarray, found: np.ndarray) -> list[str]:
    """Anchors fitted on one fold's people, rates measured on the other fold's people."""
    lines = []
    for fit_fold in (0, 1):
        fit_images = found & (lfw.image_folds == fit_fold)
        test_images = found & (lfw.image_folds != fit_fold)
        _, fit_impostor = all_pairs(cosines, lfw.people, fit_images)
        genuine, impostor = all_pairs(cosines, lfw.people, test_images)
        lines.append(f"fit on fold {fit_fold + 1} ({len(fit_impostor):,} impostor pairs), "
                     f"measured on fold {2 - fit_fold} ({len(genuine):,} genuine pairs):")
        lines += rates_table(fit_anchors(fit_impostor), genuine, impostor)
    return lines


def shipped_anchors() -> dict[float, float]:
    return {
        float(level): float(cosine)
        for level, cosine in zip(similarity.SIMILARITY_ANCHORS, similarity.COSINE_ANCHORS, strict=True)
        if level in TARGET_FALSE_ACCEPT_RATES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    arguments = parser.parse_args()
    lfw = load_lfw(arguments.data_dir)
    faces = reko_faces(lfw)
    cosines = cosine_matrix(faces.embeddings)
    genuine, impostor = all_pairs(cosines, lfw.people, faces.found)
    print(f"{len(lfw.images)} images of {len(set(lfw.people))} people; no face found in {(~faces.found).sum()}; "
          f"{len(genuine):,} genuine and {len(impostor):,} impostor pairs")
    anchors = fit_anchors(impostor)
    print("\nfitted on all pairs (in-sample rates):")
    print("\n".join(rates_table(anchors, genuine, impostor)))
    print("\nshipped anchors on the same pairs:")
    print("\n".join(rates_table(shipped_anchors(), genuine, impostor)))
    print("\n2-fold check (out of sample):")
    print("\n".join(two_fold_check(lfw, cosines, faces.found)))
    cosine_list = ", ".join(f"{cosine:.{DECIMALS}f}" for cosine in anchors.values())
    levels = ", ".join(f"{level:.1f}" for level in anchors)
    print(f"\nCOSINE_ANCHORS = np.array([-1.0, {cosine_list}, 1.0])")
    print(f"SIMILARITY_ANCHORS = np.array([0.0, {levels}, 100.0])")


if __name__ == "__main__":
    main()
