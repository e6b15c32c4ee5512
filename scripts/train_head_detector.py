"""Fit DetectProtectiveEquipment's head detector: `reko/vision/models/ppe-heads.npz`.

On the training half of the CC0 hard-hat set (`bench/ppe_sets.py`: even positions in file order), every
ground-truth head box (`helmet` and `head` alike: the detector finds heads, the cover head judges them):
- each photo and its mirror image are described by YuNet's inner maps (`reko/vision/ppe/heads.py`);
- the cell head and box regression of `reko/vision/training/detection.py` are fitted on them;
- the confidence curve (P(a box matches a ground-truth head at IoU >= 0.4) from the raw cell score) is fitted on
  out-of-fold detections: 5 folds by image, each fold's photos detected by a head fitted on the other four.
  The same detections give the printed AP, so the reported half is never looked at.

Run from the repository root: `.venv/bin/python -m scripts.train_head_detector [DATA_DIR]`. Prints the
cross-validated numbers and the sha256 of the written file (catalogue entry `ppe-heads`).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from bench.datasets import DATA_DIR, LabelledImage
from bench.metrics import match_detections
from bench.models import bench_runtime
from bench.ppe_sets import PART_MATCH_IOU, halves, hard_hat_images
from reko.vision.labels.confidence import LogisticCurve
from reko.vision.ppe.heads import (
    HEAD_CANDIDATE_FLOOR,
    CellOutputs,
    HeadMaps,
    HeadModel,
    MapsOfImage,
    agree,
    decode,
    tuned_heads,
    working_input,
)
from reko.vision.training.detection import TrainingBox, fit_detection
from scripts.train_ppe_covers import fit_curve, read_rgb

if TYPE_CHECKING:
    from scripts.torch_graph import TrainableGraph

OUTPUT = Path(__file__).resolve().parents[1] / "reko" / "vision" / "models" / "ppe-heads.npz"
TUNED_OUTPUT = OUTPUT.with_name("ppe-head-yunet.onnx")
FOLDS = 5
# Chosen by the grouped 5-fold AP below (IoU 0.4) with scale 2 and the four maps: C 0.005 / 0.05 / 0.5 gave
# 0.623 / 0.633 / 0.638; ridge alpha 100 (Custom Labels' 3000 was chosen for Lite0's 432 stride-16 numbers).
CELL_C = 0.5
BOX_RIDGE_ALPHA = 100.0
MAX_NEGATIVE_CELLS = 60_000


def training_boxes(boxes: np.ndarray) -> list[TrainingBox]:
    return [TrainingBox(0, float(x0), float(y0), float(x1 - x0), float(y1 - y0)) for x0, y0, x1, y1 in boxes]


Described = tuple[MapsOfImage, MapsOfImage, np.ndarray]


def described(maps: HeadMaps, images: Sequence[LabelledImage]) -> list[Described]:
    """Each photo's maps, its mirror image's maps and its mirror image's head boxes."""
    found = []
    for image in images:
        rgb = read_rgb(image.path)
        mirrored = image.boxes.copy()
        mirrored[:, [0, 2]] = rgb.shape[1] - image.boxes[:, [2, 0]]
        found.append((maps.describe(rgb), maps.describe(np.ascontiguousarray(rgb[:, ::-1])), mirrored))
    return found


def fit(grids: Sequence[Described], images: Sequence[LabelledImage]) -> HeadModel:
    every_grid = []
    every_box: list[list[TrainingBox]] = []
    for (grid, mirrored_grid, mirrored), image in zip(grids, images, strict=True):
        every_grid += [grid.grid(), mirrored_grid.grid()]
        every_box += [training_boxes(image.boxes), training_boxes(mirrored)]
    heads = fit_detection(every_grid, every_box, 1, c=CELL_C, ridge_alpha=BOX_RIDGE_ALPHA,
                          max_negative_cells=MAX_NEGATIVE_CELLS)
    flat = LogisticCurve(1.0, 0.0)
    return HeadModel(heads, flat, flat, flat)


PerImage = list[tuple[np.ndarray, np.ndarray]]  # (boxes, scores) of each photo


def out_of_fold(grids: Sequence[Described], images: Sequence[LabelledImage], source: Path) -> tuple[PerImage, PerImage]:
    """Each photo's detections by the cell head (raw scores) and by the head-tuned YuNet, both fitted without it."""
    from scripts.finetune_yunet_heads import finetune  # PyTorch: only this script needs it

    fold_of = np.arange(len(images)) % FOLDS
    cells: PerImage = [(np.zeros((0, 4)), np.zeros(0))] * len(images)
    tuned: PerImage = list(cells)
    for fold in range(FOLDS):
        inside = [i for i in range(len(images)) if fold_of[i] != fold]
        model = fit([grids[i] for i in inside], [images[i] for i in inside])
        session = tuned_session(finetune(source, [images[i] for i in inside], seed=fold))
        for i in np.flatnonzero(fold_of == fold):
            image = grids[i][0]
            cells[i] = decode(CellOutputs.of(model.detection).compute(image), image, HEAD_CANDIDATE_FLOOR)
            tuned[i] = tuned_heads(session, working_input(read_rgb(images[i].path)))
        print(f"fold {fold} fitted", flush=True)
    return cells, tuned


def tuned_session(graph: TrainableGraph) -> ort.InferenceSession:
    """The trained graph written to a temporary file and opened as serving opens it."""
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "ppe-head-yunet.onnx"
        graph.export(written)
        return ort.InferenceSession(str(written), providers=["CPUExecutionProvider"])


def matched(found: PerImage, images: Sequence[LabelledImage]) -> tuple[np.ndarray, np.ndarray]:
    """Every detection's score and whether it matched a ground-truth head (one to one, IoU >= 0.4)."""
    scores: list[float] = []
    right: list[bool] = []
    for (boxes, found_scores), image in zip(found, images, strict=True):
        matches = match_detections(np.asarray(boxes, np.float32), np.asarray(found_scores), image.boxes,
                                   PART_MATCH_IOU)
        scores += [float(v) for v in found_scores]
        right += [bool(m >= 0) for m in matches]
    return np.array(scores), np.array(right, bool)


def report(name: str, scores: np.ndarray, right: np.ndarray, truth: int, curve: LogisticCurve) -> None:
    order = np.argsort(-scores, kind="stable")
    hits = right[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    average_precision = float(precision[hits].sum() / truth)
    print(f"{name}: grouped {FOLDS}-fold on the training half: {truth} heads, AP (IoU {PART_MATCH_IOU}) "
          f"{average_precision:.3f}, recall of every box: {hits.sum() / truth:.3f}")
    probability = curve.probability(scores)
    for low, high in ((0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        band = (probability >= low) & (probability < high)
        print(f"  P {low:.1f}-{min(high, 1):.1f}: {int(band.sum())} boxes, {int(right[band].sum())} real heads")
    listed = probability >= 0.5
    print(f"  listed (P >= 0.5): {int(listed.sum())} boxes, {int(right[listed].sum())} real "
          f"(recall {right[listed].sum() / truth:.3f})")


def fitted_curve(name: str, scores: np.ndarray, right: np.ndarray) -> LogisticCurve:
    curve = LogisticCurve(*map(float, fit_curve(scores, right.astype(int))))
    print(f"{name} curve: {len(scores)} held-out boxes, {int(right.sum())} real -> slope {curve.slope:.4f}, "
          f"intercept {curve.intercept:.4f}")
    return curve


def main(argv: Sequence[str]) -> None:
    from scripts.finetune_yunet_heads import finetune  # PyTorch: only this script needs it

    data_dir = Path(argv[0]) if argv else DATA_DIR
    images = halves(hard_hat_images(data_dir))[0]
    runtime = bench_runtime()
    source = runtime.model_path("face-detector")
    grids = described(HeadMaps(runtime), images)
    truth = sum(len(image.boxes) for image in images)
    cells, tuned = out_of_fold(grids, images, source)
    cell_scores, cell_right = matched(cells, images)
    curve = fitted_curve("cell head", cell_scores, cell_right)
    report("cell head", cell_scores, cell_right, truth, curve)
    tuned_scores, tuned_right = matched(tuned, images)
    tuned_curve = fitted_curve("tuned YuNet", tuned_scores, tuned_right)
    report("tuned YuNet alone", tuned_scores, tuned_right, truth, tuned_curve)
    fused = [agree((boxes, curve.probability(scores)), (other, tuned_curve.probability(other_scores)))
             for (boxes, scores), (other, other_scores) in zip(cells, tuned, strict=True)]
    fused_scores, fused_right = matched(fused, images)
    fused_curve = fitted_curve("fused", fused_scores, fused_right)
    report("fused", fused_scores, fused_right, truth, fused_curve)
    model = HeadModel(fit(grids, images).detection, curve, tuned_curve, fused_curve)
    np.savez(OUTPUT, **model.to_arrays())  # type: ignore[arg-type]
    finetune(source, images, seed=FOLDS).export(TUNED_OUTPUT)
    for path in (OUTPUT, TUNED_OUTPUT):
        print(f"wrote {path} ({path.stat().st_size} bytes) sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1:])
