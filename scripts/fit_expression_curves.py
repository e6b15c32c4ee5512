"""Fit the Smile, EyesOpen and MouthOpen curves and write `reko/vision/models/face-expression-curves.json`.

Training data: the faces of `bench/labels/face_expressions.csv` (LFW, AFW and WIDER faces labelled by eye for
Reko; photos read from `../shared/data`, never copied), each re-measured by the face pipeline exactly as
`bench/face_expressions.py` measures it. Each curve is a logistic regression (scikit-learn, standardised
features, C = `bench.face_expressions.C_CURVES`, no hyper-parameter chosen) fitted on every judged face; the
file stores the weights on raw features. The catalogue's sha256 for `face-expression-curves` must be updated
after a refit. Run from the repository root: `.venv/bin/python -m scripts.fit_expression_curves [DATA_DIR]`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.datasets import DATA_DIR
from bench.face_expressions import C_CURVES, features, labelled_sets
from bench.metrics import logistic_model
from reko.vision.faces.expressions import FORMAT_VERSION

REPO_DIR = Path(__file__).resolve().parents[1]
CURVES_FILE = REPO_DIR / "reko" / "vision" / "models" / "face-expression-curves.json"
FEATURE_NAMES = {
    "eyes_open": ["mean lid gap over eye width (iris-model contours)"],
    "eyes_open_mesh": ["larger eye aspect ratio (mesh lids)"],
    "mouth_open": ["inner-lip gap over mouth width"],
    "smile": ["HAPPY probability", "mouth width over inter-ocular distance"],
}


def fit_curve(x: np.ndarray, labels: np.ndarray) -> tuple[list[float], float]:
    """Weights and bias on raw features, from the standardised fit."""
    model = logistic_model(C_CURVES).fit(x, labels)
    scaler, regression = model[0], model[-1]
    weights = regression.coef_[0] / scaler.scale_
    bias = float(regression.intercept_[0] - weights @ scaler.mean_)
    return [round(float(w), 6) for w in weights], round(bias, 6)


def main(argv: Sequence[str]) -> None:
    data_dir = Path(argv[0]) if argv else DATA_DIR
    curves: dict[str, object] = {}
    for name, (_, found, labels) in labelled_sets(data_dir).items():
        x = np.array([features(name, analysis) for analysis in found])
        weights, bias = fit_curve(x, labels)
        curves[name] = {
            "features": FEATURE_NAMES[name], "weights": weights, "bias": bias,
            "faces": len(labels), "positives": int(labels.sum()),
        }
    document = {
        "format": FORMAT_VERSION,
        "fitted_by": "scripts/fit_expression_curves.py",
        "labels": "bench/labels/face_expressions.csv",
        "inverse_l2": C_CURVES,
        "curves": curves,
    }
    CURVES_FILE.write_text(json.dumps(document, indent=2) + "\n")
    digest = hashlib.sha256(CURVES_FILE.read_bytes()).hexdigest()
    sys.stdout.write(f"{json.dumps(curves, indent=2)}\nwrote {CURVES_FILE} sha256 {digest}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
