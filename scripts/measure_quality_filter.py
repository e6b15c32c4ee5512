"""The measurements behind QualityFilter's cut-offs (`reko.operations.faces.quality_filter`).

Nothing is fitted: the cut-offs were chosen by hand from these tables, which this script reproduces.

1. Degradation: 30 same-person pairs of LFW `pairs_view2_folds1-2.txt` (every 20th); the second photo of each
   pair is shrunk (face's shorter side 12-40 px, pasted on a grey 250 px canvas), blurred (Gaussian sigma
   1-6 px) or darkened / brightened (gain 0.15-2.5), and the share of pairs whose cosine stays >= 0.30 (about
   Similarity 80 with the provisional anchors) is printed with the measured sharpness or brightness.
2. Pass rates of each level on 150 random LFW photos (largest face) and on every face of 60 random WIDER-200
   photos (seed 0).

The LFW pairs are among those the Similarity map is fitted on; no accuracy is claimed for the filter.
Run from the repository root: `.venv/bin/python -m scripts.measure_quality_filter [DATA_DIR]`.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bench.datasets import DATA_DIR
from bench.models import face_pipeline
from reko.operations.faces.quality_filter import QUALITY_BARS, FaceMeasures
from reko.pipelines.faces import FaceAnalysis, Needs

PAIR_STRIDE = 20
PAIR_COUNT = 30
MATCH_COSINE = 0.30
CANVAS_PX = 250
EMBEDDING = Needs(embedding=True)


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def largest_face(rgb: np.ndarray) -> FaceAnalysis | None:
    faces = face_pipeline().analyze(rgb, EMBEDDING, max_faces=1)
    return faces[0] if faces else None


def same_person_pairs(data_dir: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    lfw = data_dir / "faces" / "lfw"
    rows = [line.split("\t") for line in (lfw / "pairs_view2_folds1-2.txt").read_text().splitlines()[1:]]
    same = [row for row in rows if len(row) == 3][::PAIR_STRIDE][:PAIR_COUNT]

    def photo(name: str, number: str) -> np.ndarray:
        return load_rgb(lfw / "lfw-deepfunneled" / name / f"{name}_{int(number):04d}.jpg")

    return [(photo(name, first), photo(name, second)) for name, first, second in same]


def shrink_to(rgb: np.ndarray, side_px: float) -> np.ndarray:
    face = largest_face(rgb)
    assert face is not None
    factor = side_px / float(min(face.box[2] - face.box[0], face.box[3] - face.box[1]))
    small = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    canvas = np.full((CANVAS_PX, CANVAS_PX, 3), 127, np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small[:CANVAS_PX, :CANVAS_PX]
    return canvas


def degradation_row(pairs: list[tuple[np.ndarray, np.ndarray]], name: str,
                    degrade: Callable[[np.ndarray], np.ndarray]) -> dict[str, object]:
    cosines, sharpness, brightness = [], [], []
    for first, second in pairs:
        reference, degraded = largest_face(first), largest_face(degrade(second))
        if reference is None or degraded is None or reference.embedding is None or degraded.embedding is None:
            continue
        cosines.append(float(reference.embedding @ degraded.embedding))
        sharpness.append(degraded.quality.sharpness)
        brightness.append(degraded.quality.brightness)
    return {
        "degradation": name, "found": len(cosines), "kept": round(float(np.mean(np.array(cosines) >= MATCH_COSINE)), 2),
        "sharpness_median": round(float(np.median(sharpness)), 1),
        "brightness_median": round(float(np.median(brightness)), 1),
    }


def degradation_table(data_dir: Path) -> list[dict[str, object]]:
    pairs = same_person_pairs(data_dir)
    rows = [degradation_row(pairs, f"face {side} px", lambda rgb, s=side: shrink_to(rgb, s))
            for side in (12, 16, 24, 40)]
    rows += [degradation_row(pairs, f"blur sigma {sigma}", lambda rgb, s=sigma: cv2.GaussianBlur(rgb, (0, 0), s))
             for sigma in (1, 2, 3, 4, 6)]
    rows += [degradation_row(pairs, f"gain {gain}", lambda rgb, g=gain: np.clip(rgb * g, 0, 255).astype(np.uint8))
             for gain in (0.15, 0.3, 1.8, 2.5)]
    return rows


def pass_rates(data_dir: Path) -> list[dict[str, object]]:
    rng = random.Random(0)
    lfw = sorted((data_dir / "faces" / "lfw" / "lfw-deepfunneled").glob("*/*.jpg"))
    wider = sorted((data_dir / "faces" / "wider_val_200_416" / "images").glob("*.jpg"))
    rng.shuffle(lfw)
    rng.shuffle(wider)
    rows = []
    for name, paths, max_faces in (("LFW, largest face", lfw[:150], 1), ("WIDER-200, every face", wider[:60], 100)):
        faces = [FaceMeasures.of(face) for path in paths
                 for face in face_pipeline().analyze(load_rgb(path), Needs(), max_faces=max_faces)]
        row: dict[str, object] = {"set": name, "faces": len(faces)}
        for level, bar in QUALITY_BARS.items():
            row[level] = f"{np.mean([bar.admits(face) for face in faces]):.1%}"
        rows.append(row)
    return rows


def main() -> None:
    from bench import report

    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR
    print(report.markdown(degradation_table(data_dir)), end="\n\n")
    print(report.markdown(pass_rates(data_dir)))


if __name__ == "__main__":
    main()
