"""Re-derive the two rest offsets of `reko/vision/faces/head_pose.py` from LFW portraits.

- `PITCH_OFFSET_DEG`: the pitch the mesh reads, before calibration, on faces that look at the camera. The
  chin-to-forehead line of the MediaPipe mesh is not upright on them, so frontal faces read a few degrees
  chin-down; the median over portraits is subtracted so they read ~0.
- `IRIS_REST_X_EYE_WIDTHS`: where the iris centre sits across each eye (x in the face plane, in eye widths
  from the eye corners' midpoint) when the eyes look into the camera. Medians per eye.

Both assume LFW's subjects mostly face and look at the camera (news portraits): a median, not a mean, so the
few turned heads and side glances do not move it. Faces come from ../shared/data/faces/lfw (the 1583 images
of View-2 folds 1-2, 844 people): one photo each of `--people` people, drawn as bench/face_gender.py draws
its sample (sorted person folders shuffled by `random.Random(SEED)`, one photo each by the same generator).
Each photo runs through the real pipeline (`FacePipeline.analyze` with the iris model) and the face nearest
the image centre is LFW's subject. The 95 % intervals are bootstrap percentiles of the median.

Run from the repository root: `.venv/bin/python -m scripts.fit_pose_offsets [--data-dir DIR] [--people 300]`.
It prints the fitted values beside the shipped ones and changes nothing: a shipped constant is edited by hand,
citing this script and its output.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from PIL import Image

from bench.datasets import DATA_DIR
from bench.face_gender import central_face
from bench.models import face_pipeline
from reko.pipelines.faces import Needs
from reko.vision.faces import head_pose
from reko.vision.faces.head_pose import (
    IMAGE_LEFT_EYE,
    IMAGE_LEFT_IRIS_CENTRE,
    IMAGE_RIGHT_EYE,
    IMAGE_RIGHT_IRIS_CENTRE,
    IRIS_REST_X_EYE_WIDTHS,
    PITCH_OFFSET_DEG,
)

LFW_DIR = Path("faces") / "lfw" / "lfw-deepfunneled"
SEED = 20240607  # the seed of bench/face_gender.py's LFW sample
DEFAULT_PEOPLE = 300
BOOTSTRAP_ROUNDS = 2000


def sample_photos(data_dir: Path, people: int, seed: int = SEED) -> list[Path]:
    """One photo each of `people` LFW people, drawn reproducibly."""
    rng = random.Random(seed)
    folders = sorted(path for path in (data_dir / LFW_DIR).iterdir() if path.is_dir())
    rng.shuffle(folders)
    return [rng.choice(sorted(folder.glob("*.jpg"))) for folder in folders[:people]]


def raw_pitch_deg(points: np.ndarray) -> float:
    """The pitch `head_pose` reads before its calibration is subtracted."""
    return head_pose.head_pose(points).pitch_deg + PITCH_OFFSET_DEG


def iris_x_eye_widths(points: np.ndarray) -> tuple[float, float]:
    """Each iris centre's x offset from its eye corners' midpoint, in eye widths, in the gaze's face frame."""
    local = head_pose._in_face_frame(np.asarray(points, np.float64))
    offsets = []
    for eye, iris in ((IMAGE_LEFT_EYE, IMAGE_LEFT_IRIS_CENTRE), (IMAGE_RIGHT_EYE, IMAGE_RIGHT_IRIS_CENTRE)):
        corner_a, corner_b = local[eye[0]], local[eye[3]]
        width = float(np.linalg.norm(corner_b - corner_a))
        offsets.append((local[iris, 0] - (corner_a[0] + corner_b[0]) / 2) / width if width > 0 else np.nan)
    return float(offsets[0]), float(offsets[1])


def measure(photos: list[Path]) -> np.ndarray:
    """(n, 3) rows of raw pitch (deg), image-left iris x, image-right iris x, for photos with a face."""
    rows = []
    for photo in photos:
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        face = central_face(face_pipeline().analyze(rgb, Needs(iris=True)), rgb.shape[1], rgb.shape[0])
        if face is not None:
            rows.append((raw_pitch_deg(face.mesh.points), *iris_x_eye_widths(face.mesh.points)))
    return np.array(rows, np.float64).reshape(-1, 3)


def median_interval(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """The median and a bootstrap 95 % interval of it."""
    values = values[np.isfinite(values)]
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(values, (BOOTSTRAP_ROUNDS, len(values))), axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return float(np.median(values)), float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE)
    arguments = parser.parse_args()
    if not (arguments.data_dir / LFW_DIR).is_dir():
        raise SystemExit(f"no LFW images at {arguments.data_dir / LFW_DIR}")
    photos = sample_photos(arguments.data_dir, arguments.people)
    readings = measure(photos)
    print(f"{len(readings)} of {len(photos)} LFW photos had a face (seed {SEED}, one photo per person)\n")
    print("| constant | fitted median | bootstrap 95 % | shipped | fitted - shipped |")
    print("|---|---|---|---|---|")
    shipped = (PITCH_OFFSET_DEG, *IRIS_REST_X_EYE_WIDTHS)
    names = ("PITCH_OFFSET_DEG", "IRIS_REST_X_EYE_WIDTHS[0] (image-left eye)",
             "IRIS_REST_X_EYE_WIDTHS[1] (image-right eye)")
    for column, (name, value) in enumerate(zip(names, shipped, strict=True)):
        median, low, high = median_interval(readings[:, column])
        print(f"| {name} | {median:.3f} | {low:.3f} .. {high:.3f} | {value:.3f} | {median - value:+.3f} |")


if __name__ == "__main__":
    main()
