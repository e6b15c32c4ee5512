"""Gender from `analyze_faces` agrees with hand labels on real LFW faces: a regression guard, not a benchmark.

bench/face_gender.py scores all 359 labelled faces; this runs the first ten women and ten men of the random
sample, so a broken chip, channel order or output index shows up in a normal test run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reko.pipelines.faces import Needs
from tests.conftest import shared_face_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / ".." / "shared" / "data"
LABELS_FILE = REPO_ROOT / "bench" / "labels" / "lfw_gender.csv"
FACES_PER_CLASS = 10
MIN_ACCURACY = 0.8


def _balanced_sample() -> list[dict[str, str]]:
    with LABELS_FILE.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["sample"] == "random"]
    women = [row for row in rows if row["label"] == "female"][:FACES_PER_CLASS]
    men = [row for row in rows if row["label"] == "male"][:FACES_PER_CLASS]
    return women + men


def _says_male(image: str) -> bool:
    rgb = np.asarray(Image.open(DATA_DIR / image).convert("RGB"))
    faces = shared_face_pipeline().analyze(rgb, Needs(age_gender=True))
    assert faces, f"no face found in {image}"
    centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2])
    face = min(faces, key=lambda found: float(np.linalg.norm((found.box[:2] + found.box[2:]) / 2 - centre)))
    assert face.male_probability is not None
    return face.male_probability >= 0.5


@pytest.mark.data
@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"needs evaluation data at {DATA_DIR} (../shared/data)")
def test_gender_agrees_with_hand_labels() -> None:
    sample = _balanced_sample()
    assert len(sample) == 2 * FACES_PER_CLASS
    hits = sum(_says_male(row["image"]) == (row["label"] == "male") for row in sample)
    assert hits >= MIN_ACCURACY * len(sample), f"{hits}/{len(sample)} faces agree with the hand-labelled gender"
