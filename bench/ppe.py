"""DetectProtectiveEquipment end to end on the reporting half of the CC0 PPE sets, and its speed through HTTP.

Accuracy runs the engine's own PPE pipeline in-process on every reporting-half photo (`bench/ppe_sets.py`; the
cover heads, placements and curves were fitted on the other half). Each ground-truth head (hard-hat set) or face
(mask set) is matched one to one to a reported HEAD / FACE body part at IoU >= `PART_MATCH_IOU`; a matched part
is judged covered when Reko lists its cover (P >= 0.5). Rows give:
- `truth`: ground-truth heads/faces; `found`: those matched to a reported part (part recall);
- `in_person`: those whose centre lies inside a reported person box (person recall: a worker not found
  cannot be checked);
- accuracy, precision and recall of "covered", and recall of *uncovered* among the matched parts, and
  `uncovered_flagged`: bare heads/faces reported bare over all bare ones (misses count against it), and
  `uncovered_flagged_reportable`: the same over the bare ones among the 15 largest truth parts of their photo
  (Rekognition, and the issue, list at most 15 persons, the largest: in a crowd of 35 the 20 smallest faces cannot
  be reported at all; 13 of the mask half's 37 bare faces are such).
HAND_COVER has no ground truth in the sets: hands Reko located were labelled glove / bare by eye
(`bench/labels/hand_cover.csv`, `docs/hand-cover-labels.md`). Its row matches each hand reported on a reporting-half
photo to a labelled hand of the same person side at IoU >= `HAND_MATCH_IOU` and scores "glove" among the
glove / bare ones, beside the majority baseline (always answer the more common label of the training half).
Latency: `reko serve` in a child process on 2 threads, boto3, a 640x480 COCO photo with 3 people; the split
is measured in-process on the same photo.

Run: `python -m bench --only ppe`.
"""

from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from bench import latency
from bench.datasets import LabelledImage
from bench.metrics import auc, match_detections
from bench.models import bench_runtime, face_pipeline
from bench.ppe_sets import PART_MATCH_IOU, halves, hard_hat_images, mask_images
from reko.pipelines.labels import LabelPipeline
from reko.pipelines.ppe import MAX_PERSONS, PersonEquipment, PpePipeline, locate, seen_hands
from reko.vision.boxes import iou_matrix
from reko.vision.ppe.hands import find_hands
from reko.vision.ppe.pose import head_references

# COCO val2017 000000008021: 640x480, three people (COCO boxes), the speed target's photo.
THREE_PEOPLE_IMAGE = Path("objects") / "coco_val2017_first128" / "images" / "000000008021.jpg"
HAND_LABELS = Path(__file__).resolve().parent / "labels" / "hand_cover.csv"
HAND_MATCH_IOU = 0.5  # labelled boxes are the pipeline's own: a reported hand meets its label unless the model changed
HAND_COVERED = {"glove": 1, "bare": 0}
LATENCY_REQUESTS = 30
SPLIT_RUNS = 10


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise FileNotFoundError(path)
    return np.ascontiguousarray(bgr[..., ::-1])


def part_rows(pipeline: PpePipeline, images: list[LabelledImage], part: str, covered_label: str) -> dict[str, object]:
    """Scores of one body part (HEAD or FACE) over a set's reporting half."""
    labels: list[int] = []
    predicted: list[int] = []
    in_person = truth = bare_flagged = bare = reportable_bare = reportable_bare_flagged = 0
    for image in images:
        persons = pipeline.analyze(read_rgb(image.path))
        boxes, scores, covered = _parts(persons, part)
        matched = match_detections(boxes, scores, image.boxes, PART_MATCH_IOU)
        is_covered = np.array([label == covered_label for label in image.labels], bool)
        reportable = largest_boxes(image.boxes, MAX_PERSONS)
        truth += len(image.boxes)
        bare += int((~is_covered).sum())
        reportable_bare += int((~is_covered & reportable).sum())
        for detection, index in enumerate(matched):
            if index >= 0:
                labels.append(int(is_covered[index]))
                predicted.append(int(covered[detection] >= 0.5))
                flagged_bare = not is_covered[index] and covered[detection] < 0.5
                bare_flagged += int(flagged_bare)
                reportable_bare_flagged += int(flagged_bare and reportable[index])
        in_person += _inside_persons(image.boxes, persons)
    y, p = np.array(labels), np.array(predicted)
    positives, flagged = int(y.sum()), int(p.sum())
    true_positives = int((y & p).sum())
    return {
        "part": part,
        "truth": truth,
        "found": len(y),
        "in_person": in_person,
        "accuracy": round(float((y == p).mean()), 4) if len(y) else None,
        "covered_precision": round(true_positives / flagged, 4) if flagged else None,
        "covered_recall": round(true_positives / positives, 4) if positives else None,
        "uncovered_recall": round(float(((p == 0) & (y == 0)).sum() / max(1, (y == 0).sum())), 4),
        "uncovered_flagged": f"{bare_flagged}/{bare}",
        "uncovered_flagged_reportable": f"{reportable_bare_flagged}/{reportable_bare}",
    }


def largest_boxes(boxes: np.ndarray, count: int) -> np.ndarray:
    """(n,) bool: the `count` largest boxes by area (ties in file order)."""
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    chosen = np.zeros(len(boxes), bool)
    chosen[np.argsort(-areas, kind="stable")[:count]] = True
    return chosen


def hand_rows(pipeline: PpePipeline, data_dir: Path) -> dict[str, object]:
    """HAND_COVER on the labelled hands of the reporting half of both sets (glove / bare only)."""
    with HAND_LABELS.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["hand_cover"] in HAND_COVERED]
    training = {str(image.path.relative_to(data_dir)) for images in (hard_hat_images(data_dir), mask_images(data_dir))
                for image in halves(images)[0]}
    by_image: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_image.setdefault(row["image"], []).append(row)
    trained = [HAND_COVERED[row["hand_cover"]] for row in rows if row["image"] in training]
    majority = int(np.mean(trained) >= 0.5) if trained else 0
    labels: list[int] = []
    probabilities: list[float] = []
    truth = 0
    for name, labelled in sorted(by_image.items()):
        if name in training:
            continue
        truth += len(labelled)
        persons = pipeline.analyze(read_rgb(data_dir / name))
        for side in ("LEFT", "RIGHT"):
            reported = _hands(persons, side)
            wanted = [row for row in labelled if row["side"] == side]
            if not wanted or not len(reported[0]):
                continue
            boxes = np.array([[float(row[k]) for k in ("x0", "y0", "x1", "y1")] for row in wanted], np.float32)
            overlaps = iou_matrix(boxes, reported[0])
            for index, row in enumerate(wanted):
                best = int(overlaps[index].argmax())
                if overlaps[index, best] >= HAND_MATCH_IOU:
                    labels.append(HAND_COVERED[row["hand_cover"]])
                    probabilities.append(float(reported[1][best]))
    y, p = np.array(labels, int), (np.array(probabilities) >= 0.5).astype(int)
    flagged, positives = int(p.sum()), int(y.sum())
    true_positives = int((y & p).sum())
    return {
        "part": "HAND (labelled by eye)",
        "truth": truth,
        "found": len(y),
        "accuracy": round(float((y == p).mean()), 4) if len(y) else None,
        "majority_accuracy": round(float((y == majority).mean()), 4) if len(y) else None,
        "glove_auc": round(auc(y, np.array(probabilities)), 4) if len(y) else None,  # ranking, at no threshold
        "covered_precision": round(true_positives / flagged, 4) if flagged else None,
        "covered_recall": round(true_positives / positives, 4) if positives else None,
        "uncovered_recall": round(float(((p == 0) & (y == 0)).sum() / max(1, (y == 0).sum())), 4),
        "uncovered_flagged": f"{int(((p == 0) & (y == 0)).sum())}/{int((y == 0).sum())}",
    }


def _hands(persons: list[PersonEquipment], side: str) -> tuple[np.ndarray, np.ndarray]:
    """(m, 4) boxes and (m,) P(glove) of every reported hand of one side."""
    rows = [(p.left_hand_box, p.left_hand_covered) if side == "LEFT" else (p.right_hand_box, p.right_hand_covered)
            for p in persons]
    rows = [row for row in rows if row[0] is not None]
    return np.array([row[0] for row in rows], np.float32).reshape(-1, 4), np.array([row[1] for row in rows])


def _parts(persons: list[PersonEquipment], part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [
        (p.head_box, p.head_confidence, p.head_covered) if part == "HEAD" else (p.face_box, p.face_confidence,
                                                                               p.face_covered)
        for p in persons
    ]
    rows = [row for row in rows if row[0] is not None]
    boxes = np.array([row[0] for row in rows], np.float32).reshape(-1, 4)
    return boxes, np.array([row[1] for row in rows]), np.array([row[2] for row in rows])


def _inside_persons(truth: np.ndarray, persons: list[PersonEquipment]) -> int:
    if not persons or not len(truth):
        return 0
    boxes = np.stack([person.box for person in persons])
    centres = (truth[:, :2] + truth[:, 2:]) / 2
    inside = (
        (centres[:, None, 0] >= boxes[None, :, 0]) & (centres[:, None, 0] <= boxes[None, :, 2])
        & (centres[:, None, 1] >= boxes[None, :, 1]) & (centres[:, None, 1] <= boxes[None, :, 3])
    )
    return int(inside.any(axis=1).sum())


def split_ms(pipeline: PpePipeline, rgb: np.ndarray) -> dict[str, float]:
    """Median in-process time of each stage on one photo, each alone, and of the whole pipeline (where persons,
    faces and heads overlap on the pool, and the pose's persons run on it while the face covers run)."""
    stages: dict[str, list[float]] = {"persons+faces": [], "heads": [], "pose": [], "covers": [], "in_process": []}
    for _ in range(SPLIT_RUNS):
        started = time.perf_counter()
        people = pipeline.finder.find(rgb)
        found_at = time.perf_counter()
        pipeline.heads.find_heads(rgb)
        detected_at = time.perf_counter()
        body = pipeline.pose.find_points(rgb, people.boxes)
        posed_at = time.perf_counter()
        located = locate(people, pipeline.models.placements, head_references(body), rgb.shape[1], rgb.shape[0])
        hands = seen_hands(find_hands(body))
        pipeline.covers.heads_and_hands_covered(rgb, located.heads, hands.boxes)
        pipeline.covers.faces_covered(rgb, people.faces.keypoints[located.face_index[located.from_face]])
        covered_at = time.perf_counter()
        pipeline.analyze(rgb)
        stages["persons+faces"].append((found_at - started) * 1000)
        stages["heads"].append((detected_at - found_at) * 1000)
        stages["pose"].append((posed_at - detected_at) * 1000)
        stages["covers"].append((covered_at - posed_at) * 1000)
        stages["in_process"].append((time.perf_counter() - covered_at) * 1000)
    return {f"{name}_ms": round(statistics.median(values), 1) for name, values in stages.items()}


def latency_row(data_dir: Path, pipeline: PpePipeline) -> dict[str, object]:
    image = (data_dir / THREE_PEOPLE_IMAGE).read_bytes()
    process, url = latency.start_server(threads=2, workers=2)
    try:
        rekognition = latency.client(url)
        answer = rekognition.detect_protective_equipment(Image={"Bytes": image})
        times = latency.latencies_ms(lambda: rekognition.detect_protective_equipment(Image={"Bytes": image}),
                                     LATENCY_REQUESTS)
    finally:
        process.terminate()
        process.wait(timeout=20)
    ordered = sorted(times)
    return {
        "part": "latency 640x480, 3 people (HTTP)",
        "persons": len(answer["Persons"]),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        **split_ms(pipeline, read_rgb(data_dir / THREE_PEOPLE_IMAGE)),
    }


def run(data_dir: Path) -> list[dict[str, object]]:
    runtime = bench_runtime()
    pipeline = PpePipeline(runtime, LabelPipeline(runtime), face_pipeline())
    rows = [
        {"set": "hard_hat_workers (reporting half)", **part_rows(
            pipeline, halves(hard_hat_images(data_dir))[1], "HEAD", "helmet")},
        {"set": "face_mask_detection (reporting half)", **part_rows(
            pipeline, halves(mask_images(data_dir))[1], "FACE", "with_mask")},
        {"set": "both sets (reporting half)", **hand_rows(pipeline, data_dir.resolve())},
    ]
    rows.append({"set": "coco 000000008021", **latency_row(data_dir, pipeline)})
    return rows
