"""Cross-validated accuracy of the Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded heads.

Each head is refitted inside 5 folds grouped by person (LFW) or photo (elsewhere), exactly as
`scripts/train_face_wear.py` fits the shipped one, and scored on the held-out fold at threshold 0.5.
Occlusion is scored separately on the mask set and on the hand-labelled faces.

Run from the repository root: `.venv/bin/python -m bench.face_wear [DATA_DIR]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bench import report
from bench.classification import grouped_folds, score_row
from scripts.train_face_wear import DEFAULT_DATA_DIR, L2_PENALTY, LabelledFace, fit_logistic, training_sets


def out_of_fold(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, l2_penalty: float) -> np.ndarray:
    """Held-out probability for every sample."""
    probabilities = np.zeros(len(labels))
    for fold in np.unique(folds):
        test = folds == fold
        head = fit_logistic(features[~test], labels[~test], l2_penalty)
        probabilities[test] = head.probability(features[test])
    return probabilities






def run(data_dir: Path) -> list[dict[str, object]]:
    """One row per attribute (and per subset for occlusion) of cross-validated scores."""
    rows = []
    for name, (faces, features, labels) in training_sets(data_dir).items():
        folds = grouped_folds([face.group for face in faces])
        probabilities = out_of_fold(features, labels, folds, L2_PENALTY[name])
        for subset in _subsets(name, faces):
            chosen = np.array([face.source == subset or subset == "all" for face in faces])
            rows.append(score_row(labels[chosen], probabilities[chosen], attribute=name, subset=subset))
    return rows


def _subsets(name: str, faces: list[LabelledFace]) -> list[str]:
    return ["mask", "labelled"] if name == "occluded" else ["labelled"]



def main(argv: list[str]) -> None:
    data_dir = Path(argv[0]) if argv else DEFAULT_DATA_DIR
    if not data_dir.is_dir():
        raise SystemExit(f"no evaluation data at {data_dir}")
    rows = run(data_dir)
    report.save("face_wear", rows)
    sys.stdout.write(report.markdown(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
