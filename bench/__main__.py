"""All benchmarks in one run: `python -m bench` (or `make bench`) prints every table and writes
`bench/results/<suite>.json` for each suite that ran and `bench/results/summary.json` for all of them.
Accuracy sets come from ../shared/data; speed is measured through HTTP.

Options: `--only detection,landmarks,...` (names from SUITES) to run a subset.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    collections,
    collections_wire,
    custom_labels,
    custom_labels_folds,
    face_age_gender,
    face_compare,
    face_detection,
    face_expressions,
    face_expressions_dev,
    face_gender,
    face_wear,
    identification,
    image_properties,
    label_agreement,
    labels,
    landmarks,
    latency,
    ppe,
    report,
)
from bench.datasets import DATA_DIR
from reko.vision.runtime import limit_blas_threads

Rows = list[dict[str, object]]

# One line per suite: name -> (table title, run(data_dir) -> rows).
SUITES: dict[str, tuple[str, Callable[[Path], Rows]]] = {
    "detection": ("Face detection, IoU >= 0.5 (WIDER-200 faces >= 16 px; mask set)", face_detection.run),
    "detection_matched": (
        "Face detection at matched operating points: AP, recall at equal precision (Reko tuned on these sets)",
        lambda data_dir: face_detection.run_matched(data_dir)[0],
    ),
    "landmarks": ("Landmark NME on AFW, inter-ocular (outer corners), %", landmarks.run),
    "wear": ("Wear and occlusion estimators, 5-fold grouped cross-validation", face_wear.run),
    "expressions": ("Smile / eyes open / mouth open, grouped cross-validation", face_expressions.run),
    "emotions": ("Emotions on expressions_dev (tune / report halves) and HAPPY on smiles", face_expressions_dev.run),
    "gender": ("Gender on hand-labelled LFW, and AgeRange width", face_gender.run),
    "agreement": ("Hand labels: a blind second look at 10 % (percent agreement, Cohen's kappa)", label_agreement.run),
    "age_gender": ("AgeRange and Gender by age band on UTKFace (utkface_dev; calibrated on it)", face_age_gender.run),
    "compare": ("Face match on LFW folds 1-2 (Similarity fitted on these images); dlib as the peer", face_compare.run),
    "identification": (
        "Identification on LFW folds 1-2: one photo indexed a person, the others searched; never-indexed people",
        identification.run,
    ),
    "latency": ("DetectFaces and CompareFaces through HTTP on 2 threads (reko serve + boto3)", latency.run),
    "labels": (
        "DetectLabels on the COCO subset: instance AP50, image-level labels (held-out half), latency via HTTP",
        labels.run,
    ),
    "image_properties": (
        "DetectLabels IMAGE_PROPERTIES: foreground IoU against hand masks (method chosen on them), latency",
        image_properties.run,
    ),
    "collections_wire": (
        "Face collections through HTTP: IndexFaces throughput, SearchFacesByImage whole call, start-up, disk",
        collections_wire.run,
    ),
    "custom-labels": (
        "Custom Labels through HTTP: held-back F1 at the assumed thresholds, training time, DetectCustomLabels "
        "latency (ppe sets)",
        custom_labels.run,
    ),
    "custom-labels-folds": (
        "Custom Labels F1 by 5-fold cross-validation grouped by photo (each fold a project trained through HTTP)",
        custom_labels_folds.run,
    ),
    "ppe": (
        "DetectProtectiveEquipment end to end on the PPE sets' reporting half (fitted on the other half); latency",
        ppe.run,
    ),
    "collections": ("Face collection index at 10k and 100k faces: exact and quantized scan, recall@1 on LFW probes",
                    collections.run),
}
# Suites that run without ../shared/data; every other suite is skipped when the folder is absent.
SUITES_WITHOUT_DATA = {"latency", "agreement"}


def run_suites(names: list[str], data_dir: Path) -> tuple[dict[str, Rows], dict[str, str]]:
    """Run each named suite, printing its table and saving its rows; returns (rows by suite, skip reasons)."""
    results: dict[str, Rows] = {}
    skipped: dict[str, str] = {}
    for name in names:
        title, run = SUITES[name]
        if name not in SUITES_WITHOUT_DATA and not data_dir.is_dir():
            skipped[name] = f"no evaluation data at {data_dir}"
            print(f"## {title}\n\nskipped: {skipped[name]}\n", flush=True)
            continue
        started = time.perf_counter()
        rows = run(data_dir)
        print(f"## {title}\n\n{report.markdown(rows)}\n\n({time.perf_counter() - started:.0f} s)\n", flush=True)
        results[name] = rows
        report.save(name, rows)
    return results, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--only", default=",".join(SUITES), help=f"comma-separated, from: {', '.join(SUITES)}")
    arguments = parser.parse_args(argv)
    names = [name for name in arguments.only.split(",") if name]
    unknown = [name for name in names if name not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    # In-process suites run as the engine does (`Engine` sets it at start). Not in `bench_runtime`: the trainers in
    # scripts/ use that too, and their committed outputs were fitted with OpenBLAS's default threads (a fit summed
    # in another order is not byte-identical, so the catalogued sha256 would not be reproduced).
    limit_blas_threads()
    results, skipped = run_suites(names, arguments.data_dir)
    if results:
        report.save("summary", {name: rows for name, rows in results.items()})
    if skipped:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
        print(f"skipped {len(skipped)} of {len(names)} suites ({reasons})")
    if not results:
        print("no suite ran: nothing written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
