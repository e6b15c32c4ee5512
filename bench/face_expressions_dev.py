"""Emotions on crowd-labelled photos (`faces/expressions_dev`), and HAPPY on faces hand-labelled smiling.

expressions_dev (882 photos, mostly LFW, a few film stills; see its SOURCE.md) is split once into two halves,
stratified by label and grouped by person (file names repeat names), with a fixed seed: the `tune` half is
the only one `scripts/fit_expression_crop.py` may look at to choose the crop; the `report` half is the one
whose numbers the README quotes. Each photo goes through the real pipeline (upscaled with LANCZOS to at
least 160 px a side first, as a user would) and the face nearest the image centre is read; a photo whose face
is not found counts as a miss of its class. Reported: top-1, balanced accuracy (mean per-class recall; chance
is 1/7), per-class recall and the confusion matrix. Contempt has no Rekognition type and is left out.

The smile check reads `bench/labels/face_expressions.csv` (faces labelled by eye for Reko): on faces labelled
smiling, how often HAPPY is the first of the answer's Emotions, beside the majority baseline (the share of the
most common top emotion the model gives on faces labelled not smiling).

Run from the repository root: `.venv/bin/python -m bench.face_expressions_dev [DATA_DIR]`.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedGroupKFold

from bench import report
from bench.datasets import DATA_DIR
from bench.face_expressions import load_labels, measure
from bench.models import face_pipeline
from reko.operations.faces.detect import rekognition_emotions
from reko.pipelines.faces import FaceAnalysis, Needs

DEV_DIR = Path("faces") / "expressions_dev"
TYPE_OF_LABEL = {
    "happiness": "HAPPY", "sadness": "SAD", "anger": "ANGRY", "disgust": "DISGUSTED",
    "surprise": "SURPRISED", "fear": "FEAR", "neutral": "CALM",
}
TYPES = tuple(TYPE_OF_LABEL.values())
MISSED = "NO_FACE"  # the prediction of a photo whose face was not found
MIN_SIDE_PX = 160  # smaller photos are upscaled to this shorter side, as a user would before sending
SPLIT_SEED = 0
HALVES = ("tune", "report")


@dataclass(frozen=True)
class DevImage:
    file: str  # under DEV_DIR / "images"
    emotion: str  # a Rekognition type of TYPES
    person: str  # the name part of the file: photos of one person never straddle the halves


def load_dev(data_dir: Path) -> list[DevImage]:
    """The labelled photos that map to a Rekognition type (contempt is dropped)."""
    with (data_dir / DEV_DIR / "labels.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["expression"] in TYPE_OF_LABEL]
    return [DevImage(row["file"], TYPE_OF_LABEL[row["expression"]], _person(row["file"])) for row in rows]


def _person(file: str) -> str:
    return re.sub(r"_\d+$", "", Path(file).stem)


def halves(images: Sequence[DevImage]) -> dict[str, list[DevImage]]:
    """The fixed `tune` / `report` split: stratified by emotion, grouped by person, seed SPLIT_SEED."""
    splitter = StratifiedGroupKFold(n_splits=2, shuffle=True, random_state=SPLIT_SEED)
    labels = [image.emotion for image in images]
    tune, reported = next(splitter.split(np.zeros(len(images)), labels, [image.person for image in images]))
    return {"tune": [images[i] for i in tune], "report": [images[i] for i in reported]}


def read_rgb(path: Path) -> np.ndarray:
    """The photo as RGB, upscaled with LANCZOS when its shorter side is under MIN_SIDE_PX."""
    image = Image.open(path).convert("RGB")
    shorter = min(image.size)
    if shorter < MIN_SIDE_PX:
        scale = MIN_SIDE_PX / shorter
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    return np.asarray(image)


def central_face(faces: Sequence[FaceAnalysis], shape: tuple[int, ...]) -> FaceAnalysis | None:
    """The face whose box centre is nearest the image centre."""
    if not faces:
        return None
    centre = np.array([shape[1], shape[0]], np.float64) / 2
    return min(faces, key=lambda face: float(np.linalg.norm((face.box[:2] + face.box[2:]) / 2 - centre)))


def top_emotion(face: FaceAnalysis | None) -> str:
    """`Emotions[0].Type` as DetectFaces answers it, or MISSED."""
    if face is None or face.emotions is None:
        return MISSED
    named = rekognition_emotions(face.emotions)
    return max(named, key=named.__getitem__)


def predict(images: Sequence[DevImage], data_dir: Path) -> list[str]:
    """The top emotion of each photo's central face, through the real pipeline."""
    predicted = []
    for image in images:
        rgb = read_rgb(data_dir / DEV_DIR / "images" / image.file)
        faces = face_pipeline().analyze(rgb, Needs(iris=True, emotions=True))
        predicted.append(top_emotion(central_face(faces, rgb.shape)))
    return predicted


def scores(truth: Sequence[str], predicted: Sequence[str], **identity: object) -> dict[str, object]:
    """Top-1, balanced accuracy over the classes present, and each class's recall."""
    present = [name for name in TYPES if name in truth]
    # Every prediction is a column (MISSED and types absent from the truth too), so a row sums to its class.
    matrix = confusion_matrix(truth, predicted, labels=[*present, *(n for n in (*TYPES, MISSED) if n not in present)])
    recalls = matrix.diagonal()[: len(present)] / matrix.sum(axis=1)[: len(present)]
    hits = sum(t == p for t, p in zip(truth, predicted, strict=True))
    return {
        **identity,
        "faces": len(truth),
        "found": sum(p != MISSED for p in predicted),
        "top1": round(hits / len(truth), 4),
        "balanced_accuracy": round(float(recalls.mean()), 4),
        "chance_balanced": round(1 / len(present), 4),
        **{f"recall_{name}": round(float(recall), 4) for name, recall in zip(present, recalls, strict=True)},
    }


def confusion_rows(truth: Sequence[str], predicted: Sequence[str], half: str) -> list[dict[str, object]]:
    """One row per true type: how many of its photos came back as each type (or MISSED)."""
    columns = [*TYPES, MISSED]
    matrix = confusion_matrix(truth, predicted, labels=columns)
    return [
        {"half": half, "true": name, **{column: int(count) for column, count in zip(columns, matrix[i], strict=True)}}
        for i, name in enumerate(TYPES)
        if name in truth
    ]


def smile_check(data_dir: Path) -> dict[str, object]:
    """HAPPY first as a smile detector on the hand-labelled faces, beside the majority baseline.

    Nothing was fitted on these faces for this check (the crop was chosen on expressions_dev).
    """
    labelled = [face for face in load_labels() if face.labels["smile"] is not None]
    found = measure(labelled, data_dir)
    pairs = [(face.labels["smile"] == 1, top_emotion(analysis) == "HAPPY")
             for face, analysis in zip(labelled, found, strict=True) if analysis is not None]
    smiling = [happy for label, happy in pairs if label]
    agree = sum(label == happy for label, happy in pairs)
    return {
        "check": "HAPPY is Emotions[0] on faces labelled smiling",
        "faces": len(pairs),
        "smiling": len(smiling),
        "happy_first_on_smiling": sum(smiling),
        "happy_first_rate": round(sum(smiling) / len(smiling), 4),
        "smile_accuracy": round(agree / len(pairs), 4),
        "majority_baseline": round(max(len(smiling), len(pairs) - len(smiling)) / len(pairs), 4),
    }


def evaluate(data_dir: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Score rows per half, and the confusion matrices."""
    rows, confusion = [], []
    for half, images in halves(load_dev(data_dir)).items():
        truth = [image.emotion for image in images]
        predicted = predict(images, data_dir)
        rows.append(scores(truth, predicted, half=half, tuned_on=half == "tune"))
        confusion += confusion_rows(truth, predicted, half)
    return rows, confusion


def run(data_dir: Path) -> list[dict[str, object]]:
    """The suite's rows for `python -m bench`: per-half scores, then the smile check."""
    rows, _ = evaluate(data_dir)
    return [*rows, smile_check(data_dir)]


def main(argv: list[str]) -> None:
    data_dir = Path(argv[0]) if argv else DATA_DIR
    if not (data_dir / DEV_DIR).is_dir():
        raise SystemExit(f"no expressions_dev set at {data_dir / DEV_DIR}")
    rows, confusion = evaluate(data_dir)
    smile = smile_check(data_dir)
    report.save("face_expressions_dev", {"halves": rows, "confusion": confusion, "smile": smile})
    sys.stdout.write(f"{report.markdown(rows)}\n\n{report.markdown(confusion)}\n\n{report.markdown([smile])}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
