"""AgeRange and Gender of DetectFaces by age band, on the 500 UTKFace faces of `faces/utkface_dev`.

The set (see its SOURCE.md) holds 50 women and 50 men in each band 0-12, 13-19, 20-39, 40-59 and 60+: 200x200
aligned crops named `age_gender_race_date.jpg.chip.jpg`, labels in `labels.csv`. Each image runs through the real
pipeline (`FacePipeline.analyze` with age and gender); the detected face nearest the centre is scored, and faces
not found are counted. Per band: the point estimate's MAE and bias (the calibrated median), how often AgeRange
holds the true age (its stated coverage is `AgeGenderCalibration.coverage`), the range's width and share of
zero-width ranges, and gender accuracy beside the majority baseline with the mean confidence and the median
confidence when wrong.

The shipped calibration was fitted on all 500 of these faces, so this table is in-sample; the held-out numbers
(2-fold, fitted on one half, measured on the other) come from `scripts/fit_age_range.py`.

Run from the repository root: `.venv/bin/python -m bench.face_age_gender [DATA_DIR]`.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench import report
from bench.datasets import DATA_DIR
from bench.face_gender import central_face
from bench.models import bench_runtime, face_pipeline
from reko.pipelines.faces import FacePipeline, Needs, largest_faces
from reko.vision.faces.age_gender import AGE_CLASS_YEARS, AgeGender, AgeGenderNetworks
from reko.vision.faces.detector import FaceDetector

UTKFACE_DIR = Path("faces") / "utkface_dev"
# (first, last) true age of each band, in years; the set holds 100 faces in each.
AGE_BANDS_YEARS: tuple[tuple[int, int], ...] = ((0, 12), (13, 19), (20, 39), (40, 59), (60, 200))
SPLIT_SEED = 20261130


@dataclass(frozen=True)
class AgedFace:
    file: str
    age_years: int
    male: bool


@dataclass(frozen=True)
class AgeGenderAnswers:
    """What was answered for n labelled faces (rows of faces not found hold zeros and found=False)."""

    found: np.ndarray  # (n,) bool
    age_range: np.ndarray  # (n, 2) int inclusive years
    age_years: np.ndarray  # (n,) point estimate in years
    male_probability: np.ndarray  # (n,) the value is male when >= 0.5
    gender_confidence: np.ndarray  # (n,) in [0.5, 1]


def load_faces(data_dir: Path = DATA_DIR) -> list[AgedFace]:
    with (data_dir / UTKFACE_DIR / "labels.csv").open(newline="") as handle:
        return [
            AgedFace(file=row["file"], age_years=int(row["age"]), male=row["gender"] == "Male")
            for row in csv.DictReader(handle)
        ]


def band_of(age_years: int) -> int:
    return next(index for index, (first, last) in enumerate(AGE_BANDS_YEARS) if first <= age_years <= last)


def band_name(index: int) -> str:
    first, last = AGE_BANDS_YEARS[index]
    return f"{first}+" if index == len(AGE_BANDS_YEARS) - 1 else f"{first}-{last}"


def halves(faces: Sequence[AgedFace], seed: int = SPLIT_SEED) -> np.ndarray:
    """(n,) 0/1: a split into two halves stratified by age band and gender, fixed by `seed`."""
    generator = np.random.default_rng(seed)
    half = np.zeros(len(faces), np.int64)
    strata = [(band_of(face.age_years), face.male) for face in faces]
    for stratum in sorted(set(strata)):
        members = np.array([i for i, key in enumerate(strata) if key == stratum])
        generator.shuffle(members)
        half[members[len(members) // 2 :]] = 1
    return half


def _rgb(face: AgedFace, data_dir: Path) -> np.ndarray:
    return np.asarray(Image.open(data_dir / UTKFACE_DIR / "images" / face.file).convert("RGB"))


def raw_outputs(faces: Sequence[AgedFace], data_dir: Path = DATA_DIR) -> tuple[np.ndarray, AgeGender]:
    """The networks' raw outputs for the central face of each image, as the pipeline computes them.

    Returns:
        (n,) bool found, and AgeGender for all n rows (rows not found hold a uniform distribution and 0.5).
    """
    runtime = bench_runtime()
    detector, networks = FaceDetector(runtime), AgeGenderNetworks(runtime)
    found = np.zeros(len(faces), bool)
    probabilities = np.full((len(faces), len(AGE_CLASS_YEARS)), 1 / len(AGE_CLASS_YEARS), np.float32)
    male = np.full(len(faces), 0.5, np.float32)
    for index, face in enumerate(faces):
        rgb = _rgb(face, data_dir)
        detected = largest_faces(detector.find_faces(rgb))
        if len(detected) == 0:
            continue
        centres = (detected.boxes[:, :2] + detected.boxes[:, 2:]) / 2
        nearest = int(np.argmin(np.linalg.norm(centres - np.array(rgb.shape[1::-1]) / 2, axis=1)))
        estimate = networks.estimate(rgb, detected.keypoints[nearest : nearest + 1])
        found[index] = True
        probabilities[index], male[index] = estimate.age_probabilities[0], estimate.male_probability[0]
    return found, AgeGender(probabilities, male)


def pipeline_answers(
    faces: Sequence[AgedFace], data_dir: Path = DATA_DIR, pipeline: FacePipeline | None = None
) -> AgeGenderAnswers:
    """What `FacePipeline.analyze` answers for the central face of each image (the bench's pipeline by default)."""
    pipeline = pipeline or face_pipeline()
    n = len(faces)
    answers = AgeGenderAnswers(
        found=np.zeros(n, bool), age_range=np.zeros((n, 2), np.int64), age_years=np.zeros(n),
        male_probability=np.full(n, 0.5), gender_confidence=np.full(n, 0.5),
    )
    for index, face in enumerate(faces):
        rgb = _rgb(face, data_dir)
        analysis = central_face(pipeline.analyze(rgb, Needs(age_gender=True)), rgb.shape[1], rgb.shape[0])
        if analysis is None or analysis.age_range is None or analysis.male_probability is None:
            continue
        answers.found[index] = True
        answers.age_range[index] = analysis.age_range
        answers.age_years[index] = analysis.age_years
        answers.male_probability[index] = analysis.male_probability
        answers.gender_confidence[index] = analysis.gender_confidence
    return answers


def band_rows(faces: Sequence[AgedFace], answers: AgeGenderAnswers, **identity: object) -> list[dict[str, object]]:
    """One row per age band and one for all faces: age error, range coverage and width, gender reliability."""
    bands = np.array([band_of(face.age_years) for face in faces])
    rows = [
        _row(faces, answers, bands == index, band=band_name(index), **identity) for index in range(len(AGE_BANDS_YEARS))
    ]
    return [*rows, _row(faces, answers, np.ones(len(faces), bool), band="all", **identity)]


def _row(faces: Sequence[AgedFace], answers: AgeGenderAnswers, chosen: np.ndarray, **identity: object) -> dict:
    scored = chosen & answers.found
    age = np.array([face.age_years for face in faces])[scored]
    male = np.array([face.male for face in faces])[scored]
    low, high = answers.age_range[scored].T
    width = high - low
    right = (answers.male_probability[scored] >= 0.5) == male
    confidence = answers.gender_confidence[scored]
    women = int((~male).sum())
    return {
        **identity,
        "faces": int(chosen.sum()),
        "not_found": int((chosen & ~answers.found).sum()),
        "age_mae_years": round(float(np.abs(answers.age_years[scored] - age).mean()), 2),
        "age_bias_years": round(float((answers.age_years[scored] - age).mean()), 2),
        "range_coverage": round(float(((low <= age) & (age <= high)).mean()), 3),
        "range_mean_width_years": round(float(width.mean()), 1),
        "range_median_width_years": float(np.median(width)),
        "range_zero_width_share": round(float((width == 0).mean()), 3),
        "gender_accuracy": round(float(right.mean()), 3),
        "gender_majority_baseline": round(max(women, len(male) - women) / len(male), 3),
        "male_accuracy": round(float(right[male].mean()), 3) if women < len(male) else None,
        "female_accuracy": round(float(right[~male].mean()), 3) if women else None,
        "gender_mean_confidence": round(float(confidence.mean()), 3),
        "gender_median_confidence_wrong": round(float(np.median(confidence[~right])), 3) if (~right).any() else None,
    }


def run(data_dir: Path) -> list[dict[str, object]]:
    faces = load_faces(data_dir)
    return band_rows(faces, pipeline_answers(faces, data_dir), calibration="shipped (fitted on these 500)")


def main(argv: list[str]) -> None:
    data_dir = Path(argv[0]) if argv else DATA_DIR
    if not (data_dir / UTKFACE_DIR).is_dir():
        raise SystemExit(f"no UTKFace development set at {data_dir / UTKFACE_DIR}")
    rows = run(data_dir)
    report.save("face_age_gender", rows)
    sys.stdout.write(report.markdown(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
