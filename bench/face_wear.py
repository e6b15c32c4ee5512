"""Cross-validated accuracy of the Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded heads.

Each head is refitted inside 5 stratified folds grouped by person (LFW) or photo (elsewhere), exactly as
`scripts/train_face_wear.py` fits the shipped one (C fixed at its value), and scored on the held-out fold at
threshold 0.5. The shipped feature set is also scored with C chosen inside each outer training fold by an
inner grouped cross-validation (nested: the held-out fold never informs the choice). Occlusion is scored
separately on the mask set and on the hand-labelled faces.

Three feature sets are compared on the same folds: `hand` (the measured colour and edge bands alone, what
Reko shipped before), `cnn` (the age network's band-pooled texture maps alone) and `cnn+hand` (both: what
ships). `--shipped` scores only the shipped set.

Run from the repository root: `.venv/bin/python -m bench.face_wear [--shipped] [DATA_DIR]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bench import report
from bench.label_samples import score_by_sample
from bench.metrics import grouped_folds, nested_out_of_fold, out_of_fold, score_row
from reko.vision.faces.wear import face_vector_names
from scripts.train_face_wear import C_CHOICES, C_HEADS, DEFAULT_DATA_DIR, LabelledFace, training_sets

SHIPPED_FEATURES = "cnn+hand"


def feature_columns() -> dict[str, np.ndarray]:
    """Column indices of the face vector for each compared feature set."""
    learnt = np.array([name.startswith("cnn.") for name in face_vector_names()])
    return {"hand": np.flatnonzero(~learnt), "cnn": np.flatnonzero(learnt), "cnn+hand": np.arange(len(learnt))}


def run(data_dir: Path, feature_sets: tuple[str, ...] = ("hand", "cnn", SHIPPED_FEATURES)) -> list[dict[str, object]]:
    """One row per attribute, feature set (and subset for occlusion) of cross-validated scores."""
    columns = feature_columns()
    rows = []
    for name, (faces, features, labels) in training_sets(data_dir).items():
        groups = [face.group for face in faces]
        folds = grouped_folds(labels, groups)
        scored: dict[str, tuple[np.ndarray, str]] = {}
        for feature_set in feature_sets:
            chosen_columns = features[:, columns[feature_set]]
            scored[feature_set] = (out_of_fold(chosen_columns, labels, folds, C_HEADS[name]), f"C={C_HEADS[name]}")
        probabilities, chosen_cs = nested_out_of_fold(features, labels, groups, folds, C_CHOICES)
        scored[f"{SHIPPED_FEATURES}, nested"] = (probabilities, "C per fold: " + ",".join(map(str, chosen_cs)))
        for feature_set, (probabilities, c) in scored.items():
            for subset in _subsets(name, faces):
                chosen = np.array([face.source == subset for face in faces])
                identity = {"attribute": name, "subset": subset, "features": feature_set, "c": c,
                            "shipped": feature_set == SHIPPED_FEATURES}
                if feature_set == SHIPPED_FEATURES and subset == "labelled":  # the random sample beside the rest
                    samples = [face.sample for face, keep in zip(faces, chosen, strict=True) if keep]
                    rows += score_by_sample(score_row, labels[chosen], probabilities[chosen], samples, **identity)
                else:
                    rows.append(score_row(labels[chosen], probabilities[chosen], **identity, sample="every face"))
    return rows


def _subsets(name: str, faces: list[LabelledFace]) -> list[str]:
    return ["mask", "labelled"] if name == "occluded" else ["labelled"]


def main(argv: list[str]) -> None:
    shipped_only = "--shipped" in argv
    paths = [arg for arg in argv if not arg.startswith("--")]
    data_dir = Path(paths[0]) if paths else DEFAULT_DATA_DIR
    if not data_dir.is_dir():
        raise SystemExit(f"no evaluation data at {data_dir}")
    rows = run(data_dir, (SHIPPED_FEATURES,) if shipped_only else ("hand", "cnn", SHIPPED_FEATURES))
    report.save("face_wear", rows)
    sys.stdout.write(report.markdown(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
