"""What batching buys each per-face model on this machine: CPU time per face at batch sizes 1 to 16.

Each model runs on one thread (as the face pipeline runs them: `SMALL_MODEL_THREADS`) on random inputs of its
size; the row is the median CPU milliseconds a face over repeated runs, so other load on the machine disturbs it
less than wall time. The face pipeline batches each chunk of faces (`FaceMesh.start_landmarks`) and the age,
gender, expression and texture models over all faces of an image.

Run: `python -m bench.face_batching [--repeats 30]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from bench import report
from bench.models import bench_runtime
from reko.vision.runtime import SMALL_MODEL_THREADS

BATCH_SIZES = (1, 2, 4, 8, 16)
# catalogue name -> one input's shape without the batch
MODELS = {
    "face-mesh-batched": (192, 192, 3),
    "face-mesh-iris-batched": (64, 64, 3),
    "age-estimator-with-features": (3, 64, 64),
    "gender-classifier": (3, 32, 32),
    "emotion-classifier": (64, 64, 1),
    "face-texture-features": (3, 64, 64),
}


def cpu_ms_per_face(model: str, shape: tuple[int, ...], batch: int, repeats: int) -> float:
    session = bench_runtime().session(model, SMALL_MODEL_THREADS)
    feed = {session.get_inputs()[0].name: np.random.default_rng(0).random((batch, *shape), dtype=np.float32)}
    for _ in range(3):
        session.run(None, feed)
    times = []
    for _ in range(repeats):
        started = time.process_time()
        session.run(None, feed)
        times.append((time.process_time() - started) * 1000 / batch)
    return round(statistics.median(times), 2)


def run(repeats: int = 30) -> list[dict[str, object]]:
    return [
        {"model": model, **{f"batch {batch}": cpu_ms_per_face(model, shape, batch, repeats) for batch in BATCH_SIZES}}
        for model, shape in MODELS.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    rows = run(args.repeats)
    print(report.markdown(rows))
    print(f"(CPU ms a face, one thread; load average over the last minute when it ended: {os.getloadavg()[0]:.2f})")
    report.save("face_batching", rows)


if __name__ == "__main__":
    main()
