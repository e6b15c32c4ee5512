"""DetectLabels IMAGE_PROPERTIES: foreground IoU against hand-drawn masks, and latency on a 640x480 photo.

Foreground: the 13 rough polygons of `bench/labels/foreground_masks.json` (protocol in
`bench/labels/FOREGROUND.md`); mean and minimum IoU of the shipped method (union of the object detector's boxes
with score >= 0.5, else the centre rectangle) and of two centre-rectangle baselines. The method was chosen on these
same 13 photos: read the numbers as a comparison, not a held-out score. Latency: `image_properties` (quality and
colours of image, foreground and background) on one COCO photo resized to 640x480, given the detector's boxes,
wall p50/p95 of 30 runs after 5 warm-ups and CPU p50. It also prints the median Laplacian variance of the 128 COCO
photos, from which `SHARPNESS_HALF_LAPLACIAN_VAR` was set.

Run: `python -m bench.image_properties`; `run(data_dir)` gives the rows for `python -m bench`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench import report
from bench.datasets import DATA_DIR
from bench.labels_models import COCO_SUBSET, LATENCY_IMAGE, LATENCY_SIZE_PX, LATENCY_THREADS, latency_ms
from reko.operations.labels.properties import image_properties
from reko.vision.catalog import Catalog
from reko.vision.foreground import centre_mask, foreground_mask
from reko.vision.image_properties import WORK_LONG_SIDE_PX
from reko.vision.labels.objects import ObjectDetector
from reko.vision.runtime import Runtime

MASKS_FILE = Path(__file__).resolve().parent / "labels" / "foreground_masks.json"
REPO_DIR = Path(__file__).resolve().parents[1]
BOX_MIN_SCORE = 0.5  # the operation's instances pass DetectLabels' MinConfidence; 0.5 stands in for it here
LATENCY_RUNS = 30

Rows = list[dict[str, object]]


def load_masks(data_dir: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(path, RGB image, bool hand mask) for every polygon in MASKS_FILE."""
    loaded = []
    for entry in json.loads(MASKS_FILE.read_text())["images"]:
        path = entry["path"]
        file = (data_dir / path) if path.startswith("objects/") else (REPO_DIR / path)
        rgb = cv2.cvtColor(cv2.imread(str(file)), cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        points = np.round(np.array(entry["polygon"]) * [width, height]).astype(np.int32)
        mask = np.zeros((height, width), np.uint8)
        cv2.fillPoly(mask, [points], 1)
        loaded.append((path, rgb, mask.astype(bool)))
    return loaded


def mask_iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / max(1, (first | second).sum()))


def detector_boxes(detector: ObjectDetector, rgb: np.ndarray) -> np.ndarray:
    found = detector.find_objects(rgb)
    return found.boxes[found.scores >= BOX_MIN_SCORE]


def foreground_rows(images: list[tuple[str, np.ndarray, np.ndarray]], detector: ObjectDetector) -> Rows:
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "centre rectangle, 20 % margins": lambda rgb: centre_mask(*rgb.shape[:2], margin_fraction=0.2),
        "centre rectangle, 10 % margins": lambda rgb: centre_mask(*rgb.shape[:2], margin_fraction=0.1),
        "union of detector boxes (score >= 0.5), else 10 % centre (shipped)": lambda rgb: foreground_mask(
            *rgb.shape[:2], detector_boxes(detector, rgb)
        ),
    }
    rows: Rows = []
    for name, method in methods.items():
        ious = [mask_iou(method(rgb), hand) for _, rgb, hand in images]
        rows.append({
            "measure": f"foreground IoU: {name}",
            "images": len(ious),
            "mean": round(statistics.mean(ious), 3),
            "median": round(statistics.median(ious), 3),
            "min": round(min(ious), 3),
        })
    return rows


def latency_row(data_dir: Path, detector: ObjectDetector, runs: int) -> dict[str, object]:
    photo = cv2.cvtColor(cv2.imread(str(data_dir / COCO_SUBSET / "images" / LATENCY_IMAGE)), cv2.COLOR_BGR2RGB)
    photo = cv2.resize(photo, LATENCY_SIZE_PX, interpolation=cv2.INTER_AREA)
    boxes = detector_boxes(detector, photo)
    p50, p95, cpu = latency_ms(lambda: image_properties(photo, boxes, None), runs)
    return {
        "measure": f"image_properties latency, 640x480, {len(boxes)} detector boxes",
        "images": 1,
        "p50 ms": round(p50, 2),
        "p95 ms": round(p95, 2),
        "CPU p50 ms": round(cpu, 2),
    }


def laplacian_row(data_dir: Path) -> dict[str, object]:
    variances = []
    for file in sorted((data_dir / COCO_SUBSET / "images").glob("*.jpg")):
        gray = cv2.cvtColor(cv2.imread(str(file)), cv2.COLOR_BGR2GRAY)
        scale = min(1.0, WORK_LONG_SIDE_PX / max(gray.shape))
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        variances.append(float(np.var(cv2.Laplacian(gray, cv2.CV_32F, ksize=1))))
    p10, p50, p90 = np.percentile(variances, [10, 50, 90])
    return {
        "measure": "Laplacian variance of the COCO photos at 640 px",
        "images": len(variances),
        "median": round(float(p50)),
        "p10": round(float(p10)),
        "p90": round(float(p90)),
    }



def run(data_dir: Path = DATA_DIR, runs: int = LATENCY_RUNS) -> Rows:
    with tempfile.TemporaryDirectory() as cache:
        detector = ObjectDetector(Runtime(Catalog(Path(cache)), intra_op_threads=LATENCY_THREADS))
        rows = foreground_rows(load_masks(data_dir), detector)
        rows.append(latency_row(data_dir, detector, runs))
    rows.append(laplacian_row(data_dir))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=LATENCY_RUNS)
    args = parser.parse_args()
    rows = run(DATA_DIR, args.runs)
    print(report.markdown(rows))
    report.save("image_properties", rows)


if __name__ == "__main__":
    main()
