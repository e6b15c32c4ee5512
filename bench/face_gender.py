"""Gender accuracy and AgeRange width of DetectFaces on hand-labelled LFW faces.

Nothing in ../shared/data labels gender or age, so `bench/labels/lfw_gender.csv` does: one photo each of 319
people drawn at random from the 844 LFW person folders (sorted names shuffled by `random.Random(20240607)`, one
of each person's photos picked by the same generator; one baby skipped as not judgeable from the picture),
marked `random`, plus 40 women picked from the rest of that shuffled order, marked `picked`, because LFW is
three quarters men. Labels were given by eye from contact sheets of the face crops, names only as a hint.

Each photo runs through the real pipeline (`FacePipeline.analyze` with age and gender) and the face nearest the image
centre is scored (LFW centres its subject). Gender is `male_probability >= 0.5`, as DetectFaces reports it.
No age labels exist here, so AgeRange gets a plausibility figure only: how often the range spans more than
`WIDE_AGE_RANGE_YEARS`, and its mean width (`bench/face_age_gender.py` measures its coverage on labelled ages).

Run from the repository root: `.venv/bin/python -m bench.face_gender [DATA_DIR]`.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench import report
from bench.datasets import DATA_DIR
from bench.metrics import auc
from bench.models import face_pipeline
from reko.pipelines.faces import FaceAnalysis, Needs

LABELS_FILE = Path(__file__).resolve().parent / "labels" / "lfw_gender.csv"
WIDE_AGE_RANGE_YEARS = 25  # High - Low above this reads as "the network has no idea"
GENDER_THRESHOLD = 0.5


@dataclass(frozen=True)
class GenderLabel:
    image: str  # path relative to the data folder
    male: bool
    sample: str  # random | picked


@dataclass(frozen=True)
class GenderReading:
    label: GenderLabel
    male_probability: float
    age_range: tuple[int, int]


def load_labels(path: Path = LABELS_FILE) -> list[GenderLabel]:
    with path.open(newline="") as handle:
        return [
            GenderLabel(image=row["image"], male=row["label"] == "male", sample=row["sample"])
            for row in csv.DictReader(handle)
        ]


def central_face(faces: list[FaceAnalysis], width: int, height: int) -> FaceAnalysis | None:
    """The face whose box centre lies nearest the image centre: LFW's subject, not a bystander."""
    if not faces:
        return None
    centre = np.array([width / 2, height / 2])
    return min(faces, key=lambda face: float(np.linalg.norm((face.box[:2] + face.box[2:]) / 2 - centre)))


def read_face(label: GenderLabel, data_dir: Path) -> GenderReading | None:
    """Gender and age range of the labelled photo's subject (None when no face is found)."""
    rgb = np.asarray(Image.open(data_dir / label.image).convert("RGB"))
    face = central_face(face_pipeline().analyze(rgb, Needs(age_gender=True)), rgb.shape[1], rgb.shape[0])
    if face is None or face.male_probability is None or face.age_range is None:
        return None
    return GenderReading(label=label, male_probability=face.male_probability, age_range=face.age_range)


def score(readings: list[GenderReading], labelled: int, subset: str) -> dict[str, object]:
    """One table row: gender accuracy beside the majority baseline, per-class recall, AUC and age-range width."""
    male = np.array([reading.label.male for reading in readings])
    probability = np.array([reading.male_probability for reading in readings])
    said_male = probability >= GENDER_THRESHOLD
    widths = np.array([high - low for low, high in (reading.age_range for reading in readings)])
    women = int((~male).sum())
    return {
        "subset": subset,
        "labelled": labelled,
        "detected": len(readings),
        "women": women,
        "men": len(readings) - women,
        "accuracy": round(float((said_male == male).mean()), 4),
        "majority_accuracy": round(max(women, len(readings) - women) / len(readings), 4),
        "female_recall": round(float((~said_male[~male]).mean()), 4) if women else None,
        "male_recall": round(float(said_male[male].mean()), 4) if women < len(readings) else None,
        "auc_male_probability": round(auc(male.astype(int), probability), 4),
        "age_range_wide_share": round(float((widths > WIDE_AGE_RANGE_YEARS).mean()), 4),
        "age_range_mean_width_years": round(float(widths.mean()), 2),
    }


def run(data_dir: Path) -> list[dict[str, object]]:
    """Rows for every labelled face and for the random sample alone (the unbiased mix of LFW)."""
    labels = load_labels()
    readings = [reading for label in labels if (reading := read_face(label, data_dir)) is not None]
    rows = [score(readings, len(labels), "all")]
    random_labels = [label for label in labels if label.sample == "random"]
    rows.append(score([r for r in readings if r.label.sample == "random"], len(random_labels), "random"))
    return rows


def main(argv: list[str]) -> None:
    data_dir = Path(argv[0]) if argv else DATA_DIR
    if not data_dir.is_dir():
        raise SystemExit(f"no evaluation data at {data_dir}")
    rows = run(data_dir)
    report.save("face_gender", rows)
    sys.stdout.write(report.markdown(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
