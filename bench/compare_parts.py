"""Where CompareFaces' time goes: each step of one request timed alone, in-process, on the same images.

The steps are those `reko.operations.faces.compare` runs for a source and a target image (decode, detection,
the mesh behind Landmarks and Pose, Quality, embedding, emotions), each called on its own, one after another,
so the split shows what each model costs; the request itself overlaps some of them (the pipeline runs the
embedding and the emotions on its pool beside the mesh), so the `whole request` row, timed through
`Engine.dispatch`, can be less than the sum.

Run: `python -m bench.compare_parts [--repeats 30]` (the latency suite's images; the crowd needs ../shared/data).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report
from bench.datasets import DATA_DIR
from bench.latency import compare_pairs
from bench.models import face_pipeline
from reko import config
from reko.images import decode_image
from reko.operations.common.context import Caller
from reko.pipelines.faces import largest_faces
from reko.vision.faces.quality import assess_quality

WARM_UP_RUNS = 3


def median_ms(step: Callable[[], Any], repeats: int) -> float:
    for _ in range(WARM_UP_RUNS):
        step()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def part_times(source: bytes, target: bytes, repeats: int) -> dict[str, object]:
    """Median ms of each step of one CompareFaces on these encoded images."""
    faces = face_pipeline()
    source_rgb, target_rgb = decode_image(source).rgb, decode_image(target).rgb
    source_faces = largest_faces(faces.detector.find_faces(source_rgb), 1)
    target_faces = largest_faces(faces.detector.find_faces(target_rgb))
    boxes, keypoints = target_faces.boxes, target_faces.keypoints
    return {
        "target faces": len(target_faces),
        "decode x2": median_ms(lambda: (decode_image(source), decode_image(target)), repeats),
        "detection source": median_ms(lambda: faces.detector.find_faces(source_rgb), repeats),
        "detection target": median_ms(lambda: faces.detector.find_faces(target_rgb), repeats),
        "embedding source": median_ms(lambda: faces.embedder.embed(source_rgb, source_faces.keypoints), repeats),
        "embedding target (one face per core)": median_ms(lambda: faces.embedder.embed(target_rgb, keypoints), repeats),
        "mesh source (the pipeline runs it; only QualityFilter reads it)": median_ms(
            lambda: faces.mesh.find_landmarks(source_rgb, source_faces.boxes, source_faces.keypoints, False), repeats
        ),
        "mesh target (Landmarks, Pose)": median_ms(
            lambda: faces.mesh.find_landmarks(target_rgb, boxes, keypoints, False), repeats
        ),
        "emotions target (Emotions, Smile)": median_ms(
            lambda: faces.emotions.classify(target_rgb, boxes, keypoints), repeats
        ),
        "quality x2": median_ms(
            lambda: (assess_quality(source_rgb, source_faces.boxes), assess_quality(target_rgb, boxes)), repeats
        ),
    }


def whole_request_ms(source: bytes, target: bytes, repeats: int) -> float:
    """Median ms of `Engine.dispatch("CompareFaces", ...)`: validation, base64, decode, models, answer."""
    from reko.engine import Engine

    engine = Engine(config.from_environment())  # as `reko compare-faces` makes it: the same model cache
    caller = Caller(request_id="bench", account_id=config.DEV_ACCOUNT_ID, region="us-east-1")
    request = {
        "SourceImage": {"Bytes": base64.b64encode(source).decode()},
        "TargetImage": {"Bytes": base64.b64encode(target).decode()},
    }
    try:
        return median_ms(lambda: engine.dispatch("CompareFaces", request, caller), repeats)
    finally:
        engine.close()


def run(data_dir: Path = DATA_DIR, repeats: int = 30) -> list[dict[str, object]]:
    """One row per step, one column per image pair (median ms; `target faces` is a count)."""
    columns: dict[str, dict[str, object]] = {}
    for name, (source, target) in compare_pairs(data_dir).items():
        columns[name] = {**part_times(source, target, repeats), "whole request (dispatch)": whole_request_ms(
            source, target, repeats)}
    steps = list(next(iter(columns.values())))
    return [{"step": step, **{name: column[step] for name, column in columns.items()}} for step in steps]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    rows = run(args.data_dir, args.repeats)
    print(report.markdown(rows))
    print(f"(load average over the last minute when it ended: {os.getloadavg()[0]:.2f})")
    report.save("compare_parts", rows)


if __name__ == "__main__":
    main()
