"""The models behind DetectLabels, alone (no server): COCO AP@0.5 of the object detector and each model's latency.

Accuracy on `objects/coco_val2017_first128` (128 COCO val2017 images, 898 boxes, YOLO-format labels): instance
AP at IoU 0.5 with all-point interpolation (`bench.metrics`), for Person and averaged over the classes present
in the subset, for the whole-image pass and for the tiled variants that help small people. The tiling settings
were chosen on this same subset (no other COCO set is in ../shared/data), and the detector was trained on COCO,
whose training split may overlap val2017 images: read the numbers as a comparison of variants, not as a
held-out score. Latency: each model on one 640x480 photo, 2 ONNX Runtime threads, wall p50/p95 of 30 runs after 5
warm-ups, and the CPU time of a run (both threads), which other load on the machine hardly changes.

Run: `python -m bench.labels_models [--runs 30]`; `run(data_dir)` gives the rows for `python -m bench`.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bench import report
from bench.datasets import DATA_DIR
from bench.metrics import average_precision, match_detections, precision_recall_curve
from reko.vision.catalog import Catalog
from reko.vision.labels.classifier import ImageClassifier
from reko.vision.labels.objects import DetectedObjects, ObjectDetector
from reko.vision.runtime import Runtime

COCO_SUBSET = Path("objects") / "coco_val2017_first128"
LATENCY_THREADS = 2
LATENCY_RUNS = 30
WARM_UP_RUNS = 5
LATENCY_SIZE_PX = (640, 480)  # width, height
LATENCY_IMAGE = "000000000139.jpg"  # a living room with people, resized to exactly 640x480


@dataclass(frozen=True)
class Variant:
    """One way of running the detector: tiles per side (0: the whole image only) and tile size."""

    name: str
    tile_grid: int
    tile_fraction: float = 1.0


VARIANTS = (
    Variant("whole image (1 pass)", 0),
    Variant("+ 2x2 tiles of 0.6 (5 passes)", 2, 0.6),
    Variant("+ 3x3 tiles of 0.5 (10 passes)", 3, 0.5),
)


@dataclass(frozen=True)
class CocoImage:
    """One image of the subset and its boxes: (n, 4) float32 xyxy pixels and n COCO class names."""

    path: Path
    boxes: np.ndarray
    names: tuple[str, ...]


def load_coco_subset(folder: Path) -> list[CocoImage]:
    """The subset's images with their YOLO labels turned into pixel boxes and COCO names."""
    names = _yolo_names(folder / "coco80_names.yaml")
    images = []
    for path in sorted((folder / "images").glob("*.jpg")):
        height, width = cv2.imread(str(path)).shape[:2]
        rows = np.loadtxt(folder / "labels_yolo" / f"{path.stem}.txt", ndmin=2).reshape(-1, 5)
        centre, size = rows[:, 1:3] * [width, height], rows[:, 3:5] * [width, height]
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1).astype(np.float32)
        images.append(CocoImage(path, boxes, tuple(names[int(c)] for c in rows[:, 0])))
    return images


def _yolo_names(path: Path) -> list[str]:
    """Class names of a YOLO data file's `names:` block (`  0: person`), by index."""
    entries = re.findall(r"^\s+(\d+):\s*(.+?)\s*$", path.read_text(), flags=re.MULTILINE)
    return [name for _, name in sorted((int(index), name) for index, name in entries)]


def detection_ap(images: list[CocoImage], find: Callable[[np.ndarray], DetectedObjects]) -> dict[str, float]:
    """AP@0.5 per class present in the ground truth, detections pooled over the images (all-point)."""
    pooled: dict[str, tuple[list[np.ndarray], list[np.ndarray], int]] = {}
    for image in images:
        rgb = cv2.cvtColor(cv2.imread(str(image.path)), cv2.COLOR_BGR2RGB)
        found = find(rgb)
        truth_names, found_names = np.array(image.names), np.array(found.class_names)
        for name in set(image.names) | set(found.class_names):
            mine = np.flatnonzero(found_names == name)
            truth = image.boxes[truth_names == name] if len(truth_names) else np.zeros((0, 4), np.float32)
            matched = match_detections(found.boxes[mine], found.scores[mine], truth) >= 0
            scores, hits, positives = pooled.setdefault(name, ([], [], 0))
            scores.append(found.scores[mine])
            hits.append(matched)
            pooled[name] = (scores, hits, positives + len(truth))
    return {
        name: average_precision(precision_recall_curve(np.concatenate(s), np.concatenate(h), np.concatenate(h), p))
        for name, (s, h, p) in pooled.items()
        if p > 0
    }


def latency_ms(task: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(p50, p95) wall milliseconds and p50 CPU milliseconds (all threads) of `task`, after WARM_UP_RUNS.

    The CPU time hardly moves when other processes share the cores, the wall time does: both are reported.
    """
    for _ in range(WARM_UP_RUNS):
        task()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        task()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), float(np.percentile(wall, 95)), statistics.median(cpu)


def run(data_dir: Path = DATA_DIR, runs: int = LATENCY_RUNS) -> list[dict[str, object]]:
    """One row per detector variant (AP and latency) and one for the classifier (latency)."""
    folder = data_dir / COCO_SUBSET
    images = load_coco_subset(folder)
    photo = cv2.resize(cv2.imread(str(folder / "images" / LATENCY_IMAGE)), LATENCY_SIZE_PX)[:, :, ::-1].copy()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="reko-bench-labels-") as cache:
        runtime = Runtime(Catalog(Path(cache)), intra_op_threads=LATENCY_THREADS)
        try:
            for variant in VARIANTS:
                detector = ObjectDetector(runtime, tile_grid=variant.tile_grid, tile_fraction=variant.tile_fraction)
                ap = detection_ap(images, detector.find_objects)
                p50, p95, cpu = latency_ms(lambda d=detector: d.find_objects(photo), runs)  # type: ignore[misc]
                rows.append({
                    "model": "object detector (COCO SSDLite MobileNetV2)",
                    "variant": variant.name,
                    "Person AP50": ap.get("person"),
                    "mean AP50": float(np.mean(list(ap.values()))),
                    "classes": len(ap),
                    "p50 ms": p50,
                    "p95 ms": p95,
                    "CPU ms p50": cpu,
                })
            classifier = ImageClassifier(runtime)
            p50, p95, cpu = latency_ms(lambda: classifier.classify(photo), runs)
            rows.append({"model": "image classifier (EfficientNet-Lite0, ImageNet)", "variant": "224x224 centre crop",
                         "p50 ms": p50, "p95 ms": p95, "CPU ms p50": cpu})
        finally:
            runtime.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--runs", type=int, default=LATENCY_RUNS)
    arguments = parser.parse_args()
    rows = run(arguments.data_dir, arguments.runs)
    print(report.markdown(rows))
    report.save("labels_models", rows)


if __name__ == "__main__":
    main()
