"""DetectLabels on the COCO subset: instance AP@0.5, image-level label precision/recall, latency through HTTP.

Data: `objects/coco_val2017_first128` (128 COCO val2017 images). The confidence curves were fitted on its
even-numbered images (scripts/fit_label_confidence.py), the fusion of the detector's passes was chosen on them
and the tile trigger on all 128, so the rows report the held-out odd images apart from all 128; AP does not
depend on the curves (monotone maps) but the tiling choices were made here. The detector was trained on COCO.

- Instance AP@0.5 (all-point, `bench.metrics`) for Person and the mean over classes present, for the whole-image
  pass, the operation's adaptive tiles (tiles only when a short person is found) with the passes merged by NMS
  (before) and by box fusion (now; chosen on the even images), and tiles always; Person AP50 on the even images,
  the held-out odd ones and all 128.
- Image-level precision/recall over the 80 COCO classes: an image "has" a class when DetectLabels (default
  MinConfidence 55) returns the class's label (COCO class → label: `taxonomy.json` "coco", e.g. "cell phone" →
  "Mobile Phone", "tv" → "TV"); micro-averaged over (image, class) pairs. Baseline: the majority rule, which says
  every image has each class present in more than half of the even images (only "person").
- Face instances (the face detector's first pass): their calibrated confidence on the odd images of
  faces/wider_val_200_416 and ppe/face_mask_detection (the curve was fitted on the even ones).
- Latency: `reko serve` (2 ONNX threads) + boto3, DetectLabels on 640x480 JPEGs, p50/p95 of 30 requests after
  10 warm-ups; the split between models timed in-process; the 1-minute load average beside it (shared machine).

Run: `python -m bench.labels [--requests 30]`; `python -m bench --only labels`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench import report
from bench.datasets import DATA_DIR
from bench.face_detection import face_evidence, load_sets
from bench.labels_models import COCO_SUBSET, CocoImage, detection_ap, load_coco_subset
from bench.latency import client, jpeg, latencies_ms, percentile, start_server
from reko.operations.labels.detect import DEFAULT_MIN_CONFIDENCE, merge_evidence
from reko.operations.labels.taxonomy import load_taxonomy
from reko.pipelines.labels import TILE_FRACTION, TILE_GRID, LabelPipeline, needs_tiles
from reko.vision.catalog import Catalog
from reko.vision.labels.objects import DetectedObjects, ObjectDetector
from reko.vision.runtime import Runtime

LATENCY_THREADS = 2
LATENCY_REQUESTS = 30
LATENCY_SIZE_PX = (640, 480)
# 000000000632.jpg: a bedroom, no people (one detector pass); 000000000139.jpg: a living room with two people,
# one short enough to trigger the tiles (five more passes).
LATENCY_IMAGES = {"bedroom, no tiles": "000000000632.jpg", "living room with people, tiled": "000000000139.jpg"}


def rgb_of(image: CocoImage) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(image.path)), cv2.COLOR_BGR2RGB)


def split_ap(images: list[CocoImage], find: Callable[[np.ndarray], DetectedObjects]) -> dict[str, dict[str, float]]:
    """AP@0.5 per class on the even images (where choices were made), the held-out odd ones and all, one run each."""
    found: dict[str, DetectedObjects] = {}

    def once(rgb: np.ndarray) -> DetectedObjects:
        key = hashlib.sha1(rgb.tobytes()).hexdigest()
        if key not in found:
            found[key] = find(rgb)
        return found[key]

    return {split: detection_ap(chosen, once)
            for split, chosen in (("even", images[0::2]), ("odd", images[1::2]), ("all", images))}


def detector_rows(images: list[CocoImage], pipeline: LabelPipeline) -> list[dict[str, object]]:
    detector = pipeline.detector
    by_nms = ObjectDetector(pipeline.runtime, tile_grid=TILE_GRID, tile_fraction=TILE_FRACTION, fusion_iou=None)
    tiled: list[bool] = []

    def adaptive(found_by: ObjectDetector, record: bool) -> Callable[[np.ndarray], DetectedObjects]:
        def find(rgb: np.ndarray) -> DetectedObjects:
            def when(whole: DetectedObjects) -> bool:
                if record:
                    tiled.append(needs_tiles(whole, rgb.shape[0]))
                return needs_tiles(whole, rgb.shape[0])

            return found_by.find_objects(rgb, tile_when=when)

        return find

    variants: dict[str, Callable[[np.ndarray], DetectedObjects]] = {
        "whole image (1 pass)": lambda rgb: detector.find_objects(rgb, tile_when=lambda _: False),
        "adaptive 2x2 tiles of 0.6, passes merged by NMS (before)": adaptive(by_nms, False),
        "adaptive 2x2 tiles of 0.6, passes fused (DetectLabels)": adaptive(detector, True),
        "2x2 tiles of 0.6 always (5 passes), fused": detector.find_objects,
    }
    rows: list[dict[str, object]] = []
    for name, find in variants.items():
        ap = split_ap(images, find)
        rows.append({
            "measure": "instance AP@0.5", "variant": name,
            "Person AP50 even 64 (tuned)": round(ap["even"]["person"], 3),
            "Person AP50 odd 64 (held out)": round(ap["odd"]["person"], 3),
            "Person AP50 all 128": round(ap["all"]["person"], 3),
            "mean AP50 all 128": round(float(np.mean(list(ap["all"].values()))), 3), "classes": len(ap["all"]),
            "images tiled": f"{sum(tiled)}/{len(images)}" if "DetectLabels" in name else "",
        })
    return rows


def label_rows(images: list[CocoImage], pipeline: LabelPipeline) -> list[dict[str, object]]:
    taxonomy = load_taxonomy()
    min_confidence = DEFAULT_MIN_CONFIDENCE / 100
    predicted: list[set[str]] = []
    for image in images:
        evidence = pipeline.analyze(rgb_of(image))
        found = merge_evidence(evidence, taxonomy, pipeline.confidence.classifier, min_confidence)
        names = {label.name for label in found if label.confidence >= min_confidence}
        predicted.append({cls for cls, label in taxonomy.coco.items() if label in names})
    truth = [set(image.names) for image in images]
    fit = range(0, len(images), 2)
    counts: dict[str, int] = {}
    for i in fit:
        for cls in truth[i]:
            counts[cls] = counts.get(cls, 0) + 1
    majority = {cls for cls, n in counts.items() if n > len(fit) / 2}
    rows = []
    for split, indices in (("held-out odd 64", range(1, len(images), 2)), ("all 128 (half tuned)", range(len(images)))):
        for method, guess in (("DetectLabels", lambda i: predicted[i]), (f"majority {sorted(majority)}",
                                                                        lambda i: majority)):
            hits = sum(len(guess(i) & truth[i]) for i in indices)
            said = sum(len(guess(i)) for i in indices)
            present = sum(len(truth[i]) for i in indices)
            rows.append({
                "measure": "image-level labels, 80 COCO classes", "variant": f"{method}, {split}",
                "precision": round(hits / said, 3) if said else None, "recall": round(hits / present, 3),
                "pairs present": present,
            })
    return rows


def face_rows(pipeline: LabelPipeline, data_dir: Path) -> list[dict[str, object]]:
    """The `Face` instances' confidence on the held-out odd images of the face sets the curve was not fitted on:
    Brier score against the constant base rate of the fitting images, and observed precision by confidence band."""
    sets = load_sets(data_dir)
    fitted = face_evidence([image for images in sets.values() for image in images[0::2]], pipeline.faces)[1]
    scores, truth = face_evidence([image for images in sets.values() for image in images[1::2]], pipeline.faces)
    confidence = pipeline.confidence.face.probability(scores)
    rows: list[dict[str, object]] = [{
        "measure": "Face instance confidence, held-out odd images of wider-200 + mask set", "variant": "all faces",
        "faces": len(scores), "precision": round(float(truth.mean()), 3),
        "Brier": round(float(np.mean((confidence - truth) ** 2)), 4),
        "Brier of base rate": round(float(np.mean((fitted.mean() - truth) ** 2)), 4),
    }]
    for low, high in ((0.0, 0.55), (0.55, 0.8), (0.8, 0.95), (0.95, 1.01)):
        band = (confidence >= low) & (confidence < high)
        if band.any():
            rows.append({"measure": "Face instance confidence, held-out", "variant": f"confidence {low:.2f}-{high:.2f}",
                         "faces": int(band.sum()), "precision": round(float(truth[band].mean()), 3),
                         "mean confidence": round(float(confidence[band].mean()), 3)})
    return rows


def split_rows(folder: Path, pipeline: LabelPipeline, runs: int) -> list[dict[str, object]]:
    """Each model alone on each latency photo, in-process (2 threads): where DetectLabels' time goes."""
    rows = []
    for name, file in LATENCY_IMAGES.items():
        rgb = cv2.resize(cv2.imread(str(folder / "images" / file)), LATENCY_SIZE_PX)[:, :, ::-1].copy()
        parts: dict[str, Callable[[], object]] = {
            "classifier": lambda r=rgb: pipeline.classifier.probabilities(r),  # type: ignore[misc]
            "detector whole pass": lambda r=rgb: pipeline.detector.find_objects(r, tile_when=lambda _: False),  # type: ignore[misc]
            "detector as DetectLabels runs it": lambda r=rgb: pipeline.detector.find_objects(  # type: ignore[misc]
                r, tile_when=lambda whole: needs_tiles(whole, r.shape[0])),
            "pipeline (both in parallel)": lambda r=rgb: pipeline.analyze(r),  # type: ignore[misc]
        }
        for part, task in parts.items():
            for _ in range(3):
                task()
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                task()
                times.append((time.perf_counter() - started) * 1000)
            rows.append({"measure": "in-process split, 640x480", "variant": f"{name}: {part}",
                         "p50 ms": round(statistics.median(times), 1), "load avg 1 min": round(os.getloadavg()[0], 2)})
    return rows


def http_rows(folder: Path, requests: int) -> list[dict[str, object]]:
    process, url = start_server(LATENCY_THREADS, 1)
    try:
        rekognition = client(url)
        rows = []
        for name, file in LATENCY_IMAGES.items():
            photo = jpeg(cv2.resize(cv2.imread(str(folder / "images" / file)), LATENCY_SIZE_PX)[:, :, ::-1].copy())
            times = latencies_ms(lambda p=photo: rekognition.detect_labels(Image={"Bytes": p}), requests)  # type: ignore[misc]
            rows.append({"measure": "DetectLabels through HTTP, 640x480", "variant": name,
                         "p50 ms": round(statistics.median(times), 1), "p95 ms": round(percentile(times, 95), 1),
                         "load avg 1 min": round(os.getloadavg()[0], 2)})
        return rows
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(data_dir: Path = DATA_DIR, requests: int = LATENCY_REQUESTS) -> list[dict[str, object]]:
    folder = data_dir / COCO_SUBSET
    images = load_coco_subset(folder)
    with tempfile.TemporaryDirectory(prefix="reko-bench-labels-") as cache:
        runtime = Runtime(Catalog(Path(cache)), intra_op_threads=LATENCY_THREADS)
        try:
            pipeline = LabelPipeline(runtime)
            rows = detector_rows(images, pipeline) + label_rows(images, pipeline) + face_rows(pipeline, data_dir)
            rows += split_rows(folder, pipeline, requests)
        finally:
            runtime.close()
    return rows + http_rows(folder, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--requests", type=int, default=LATENCY_REQUESTS)
    arguments = parser.parse_args()
    rows = run(arguments.data_dir, arguments.requests)
    print(report.markdown(rows))
    report.save("labels", rows)


if __name__ == "__main__":
    main()
