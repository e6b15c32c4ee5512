"""All benchmarks in one run: `python -m bench` (or `make bench`) prints every table and writes
`bench/results/summary.json`. Accuracy sets come from ../shared/data; speed is measured through HTTP.

Options: `--only detection,landmarks,wear,expressions,emotions,gender,latency` to run a subset.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    face_detection,
    face_expressions,
    face_expressions_dev,
    face_gender,
    face_wear,
    landmarks,
    latency,
    report,
)
from bench.datasets import DATA_DIR

SUITES: dict[str, tuple[str, Callable[[Path], list[dict[str, object]]]]] = {
    "detection": ("Face detection, IoU >= 0.5 (WIDER-200 faces >= 16 px; mask set)", face_detection.run),
    "landmarks": ("Landmark NME on AFW, inter-ocular (outer corners), %", landmarks.run),
    "wear": ("Wear and occlusion estimators, 5-fold grouped cross-validation", face_wear.run),
    "expressions": ("Smile / eyes open / mouth open, grouped cross-validation", face_expressions.run),
    "emotions": ("Emotions on expressions_dev (tune / report halves) and HAPPY on smiles", face_expressions_dev.run),
    "gender": ("Gender on hand-labelled LFW, and AgeRange width", face_gender.run),
    "latency": ("DetectFaces through HTTP on 2 threads (reko serve + boto3)", latency.run),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--only", default=",".join(SUITES))
    arguments = parser.parse_args()
    summary: dict[str, object] = {}
    for name in arguments.only.split(","):
        title, run = SUITES[name]
        needs_data = name != "latency"
        if needs_data and not arguments.data_dir.is_dir():
            print(f"## {title}\n\nskipped: no evaluation data at {arguments.data_dir}\n")
            continue
        started = time.perf_counter()
        rows = run(arguments.data_dir)
        print(f"## {title}\n\n{report.markdown(rows)}\n\n({time.perf_counter() - started:.0f} s)\n", flush=True)
        summary[name] = rows
    report.save(name, rows)
    report.save("summary", summary)


if __name__ == "__main__":
    main()
