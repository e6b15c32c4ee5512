"""Custom Labels end to end through boto3 against `reko serve`: two projects trained from ../shared/data/ppe.

- classification: face crops of `face_mask_detection` labelled with_mask / without_mask (mask_weared_incorrect
  and faces under 16 px left out), each crop resized to 96x96 (the API wants >= 80 px a side). Split by photo, in
  natural file order: crops of the first 70 % of the photos train (at most 50 a label, so 100 images), crops of
  the rest are held back (at most 100).
- object detection: `hard_hat_workers` boxes `helmet` and `head` (bare head); photos in natural order, the first
  80 train, the last 20 are held back (100 photos in all).

Reported: the evaluation's F1 on the held-back split at each label's assumed threshold (chosen by the training on
out-of-fold predictions of the training split only), per-label F1, the time from CreateProjectVersion to
TRAINING_COMPLETED, and DetectCustomLabels latency over HTTP on the held-back images. Beside it, "F1 @best held-back
thresholds": the same model's F1 when each label's threshold is the one that is best on the held-back images
themselves, from DetectCustomLabels with MinConfidence 0 — how Rekognition picks its assumed thresholds (on the test
dataset), so the figure to compare with the F1Score Rekognition reports; optimistic by construction.

Nothing was tuned on the held-back images, except that the detection design's constants (ridge alpha, 640 px side)
were compared on this same 80 / 20 split while it was built (see reko/vision/training/detection.py): its F1 is
optimistic by that much.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench import report
from bench.collections_wire import MODEL_CACHE, serve, stop
from bench.datasets import DATA_DIR
from bench.latency import client, jpeg, percentile
from reko.store.manifests import split_s3_url
from reko.vision.training.heads import best_threshold
from reko.vision.training.metrics import match_boxes

BUCKET = "bench"
CROP_PX = 96
MAX_TRAIN_PER_LABEL = 50
MAX_HELD_BACK = 100
TRAIN_PHOTO_SHARE = 0.7
HARD_HAT_TRAIN_PHOTOS = 80
MASK_LABELS = ("with_mask", "without_mask")
WARM_UP_CALLS = 3


def natural(path: Path) -> int:
    return int(re.findall(r"\d+", path.stem)[-1])


def voc(xml_path: Path) -> tuple[tuple[int, int], list[tuple[str, float, float, float, float]]]:
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.parse(xml_path).getroot()
    size = (int(root.findtext("size/width") or 0), int(root.findtext("size/height") or 0))
    boxes = []
    for item in root.iter("object"):
        x0, y0, x1, y1 = (float(item.findtext(f"bndbox/{name}") or 0) for name in ("xmin", "ymin", "xmax", "ymax"))
        x1, y1 = min(x1, size[0]), min(y1, size[1])
        boxes.append((str(item.findtext("name")), x0, y0, x1 - x0, y1 - y0))
    return size, boxes


def put(bucket_dir: Path, key: str, data: bytes) -> str:
    path = bucket_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"s3://{BUCKET}/{key}"


def classification_line(source: str, label: str) -> str:
    return json.dumps({"source-ref": source, "class": 1, "class-metadata": {
        "class-name": label, "type": "groundtruth/image-classification", "human-annotated": "yes"}})


def mask_crops(data_dir: Path, bucket_dir: Path) -> list[tuple[int, str, str]]:
    """Every with / without mask crop (faces >= 16 px) of the mask set, written to the bucket, in natural photo
    order: (photo index, label, manifest line)."""
    masks = data_dir / "ppe" / "face_mask_detection"
    crops: list[tuple[int, str, str]] = []
    for index, xml_path in enumerate(sorted((masks / "annotations").glob("*.xml"), key=natural)):
        _, boxes = voc(xml_path)
        rgb = np.asarray(Image.open(masks / "images" / f"{xml_path.stem}.png").convert("RGB"))
        for number, (label, left, top, width, height) in enumerate(boxes):
            if label not in MASK_LABELS or min(width, height) < 16:
                continue
            crop = rgb[int(top): int(top + height), int(left): int(left + width)]
            data = jpeg(np.asarray(Image.fromarray(crop).resize((CROP_PX, CROP_PX), Image.Resampling.BICUBIC)))
            line = classification_line(put(bucket_dir, f"masks/{xml_path.stem}-{number}.jpg", data), label)
            crops.append((index, label, line))
    return crops


def capped_training(crops: Iterable[tuple[int, str, str]]) -> list[str]:
    """The first MAX_TRAIN_PER_LABEL crops of each label, in order (so 100 training images at most)."""
    per_label = dict.fromkeys(MASK_LABELS, 0)
    kept = []
    for _, label, line in crops:
        if per_label[label] < MAX_TRAIN_PER_LABEL:
            per_label[label] += 1
            kept.append(line)
    return kept


def mask_manifests(data_dir: Path, bucket_dir: Path) -> tuple[list[str], list[str]]:
    """The documented split: crops of the first 70 % of the photos train (capped), the rest are held back."""
    crops = mask_crops(data_dir, bucket_dir)
    photo_count = len(list((data_dir / "ppe" / "face_mask_detection" / "annotations").glob("*.xml")))
    cut = round(photo_count * TRAIN_PHOTO_SHARE)
    train = capped_training(crop for crop in crops if crop[0] < cut)
    return train, [line for index, _, line in crops if index >= cut][:MAX_HELD_BACK]


def hard_hat_lines(data_dir: Path, bucket_dir: Path) -> list[str]:
    """One object-detection manifest line per hard-hat photo (written to the bucket), in natural order."""
    hats = data_dir / "ppe" / "hard_hat_workers"
    files = sorted((hats / "annotations").glob("*.xml"), key=natural)
    lines = []
    classes = {"helmet": 0, "head": 1}
    for xml_path in files:
        size, boxes = voc(xml_path)
        source = put(bucket_dir, f"hardhats/{xml_path.stem}.png", (hats / "images" / f"{xml_path.stem}.png")
                     .read_bytes())
        kept = [box for box in boxes if box[0] in classes]
        lines.append(json.dumps({
            "source-ref": source,
            "bounding-box": {"image_size": [{"width": size[0], "height": size[1], "depth": 3}], "annotations": [
                {"class_id": classes[label], "left": left, "top": top, "width": width, "height": height}
                for label, left, top, width, height in kept]},
            "bounding-box-metadata": {"class-map": {"0": "helmet", "1": "head"},
                                      "type": "groundtruth/object-detection", "human-annotated": "yes"},
        }))
    return lines


def hard_hat_manifests(data_dir: Path, bucket_dir: Path) -> tuple[list[str], list[str]]:
    """The documented split: the first 80 photos train, the last 20 are held back."""
    lines = hard_hat_lines(data_dir, bucket_dir)
    return lines[:HARD_HAT_TRAIN_PHOTOS], lines[HARD_HAT_TRAIN_PHOTOS:]


def train_version(
    rekognition, server_dir: Path, name: str, train: list[str], test: list[str]
) -> tuple[str, dict, float]:
    """A new project trained on `train` and evaluated on `test` through the API: the version's ARN, its description
    (TRAINING_COMPLETED) and the seconds from CreateProjectVersion to the end of training."""
    bucket_dir = server_dir / "s3" / BUCKET
    project = rekognition.create_project(ProjectName=name)["ProjectArn"]
    for kind, lines in (("TRAIN", train), ("TEST", test)):
        key = f"manifests/{name}-{kind.lower()}.manifest"
        put(bucket_dir, key, ("\n".join(lines) + "\n").encode())
        rekognition.create_dataset(ProjectArn=project, DatasetType=kind, DatasetSource={
            "GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}})
    started = time.perf_counter()
    arn = rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={
        "S3Bucket": BUCKET, "S3KeyPrefix": "evaluation/"})["ProjectVersionArn"]
    while True:
        [version] = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
        if version["Status"] != "TRAINING_IN_PROGRESS":
            break
        time.sleep(0.5)
    training_s = time.perf_counter() - started
    if version["Status"] != "TRAINING_COMPLETED":
        raise RuntimeError(f"{name}: {version['Status']}: {version['StatusMessage']}")
    return arn, version, training_s


def evaluation_summary(server_dir: Path, evaluation: dict[str, Any]) -> dict[str, Any]:
    """The `EvaluationResult`'s Summary file, read from the server's folder bucket."""
    where = evaluation["Summary"]["S3Object"]
    return dict(json.loads((server_dir / "s3" / where["Bucket"] / where["Name"]).read_text()))


@contextmanager
def served_folder(prefix: str) -> Iterator[tuple[Path, Any]]:
    """A `reko serve` on a fresh data folder (the prepared model cache linked in) and a boto3 client of it; the
    bench's bucket is `<folder>/s3/BUCKET`."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        server_dir = Path(folder)
        if MODEL_CACHE.is_dir():
            (server_dir / "models").symlink_to(MODEL_CACHE, target_is_directory=True)
        process, url, _ = serve(server_dir, None)
        try:
            yield server_dir, client(url)
        finally:
            stop(process)


def train_and_measure(rekognition, server_dir: Path, name: str, train: list[str], test: list[str]) -> dict:
    bucket_dir = server_dir / "s3" / BUCKET
    arn, version, training_s = train_version(rekognition, server_dir, name, train, test)
    summary = evaluation_summary(server_dir, version["EvaluationResult"])
    rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    images = [(bucket_dir / split_s3_url(json.loads(line)["source-ref"])[1]).read_bytes() for line in test]
    for data in images[:WARM_UP_CALLS]:
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": data})
    latencies = []
    for data in images:
        call_started = time.perf_counter()
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": data})
        latencies.append((time.perf_counter() - call_started) * 1000)
    row: dict[str, object] = {
        "project": name, "train images": len(train), "held-back images": len(test),
        "F1 held back": round(version["EvaluationResult"]["F1Score"], 3),
        "F1 @best held-back thresholds": round(best_threshold_f1(rekognition, arn, test, images), 3),
    }
    for item in summary["LabelEvaluationResults"]:
        metrics = item["Metrics"]
        row[f"{item['Label']} P/R/F1 @thr"] = (
            f"{metrics['Precision']:.2f}/{metrics['Recall']:.2f}/{metrics['F1Score']:.2f} @{metrics['Threshold']:.2f}")
    row |= {"training s": round(training_s, 1), "billable s": version["BillableTrainingTimeInSeconds"],
            "latency p50 ms": round(percentile(latencies, 50), 1),
            "latency p90 ms": round(percentile(latencies, 90), 1)}
    return row


def best_threshold_f1(rekognition, arn: str, test: list[str], images: list[bytes]) -> float:
    """Macro F1 over the labels of `test` when each label's threshold is its F1-best one on these very images
    (Rekognition's way of choosing assumed thresholds); detection boxes match at IoU 0.5 as in the evaluation."""
    scores: dict[str, list[float]] = {}
    hits: dict[str, list[bool]] = {}
    positives: dict[str, int] = {}
    for line, data in zip(test, images, strict=True):
        found = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": data}, MinConfidence=0)
        truths = held_back_truth(json.loads(line))
        for label, truth in truths.items():
            positives[label] = positives.get(label, 0) + (len(truth) if truth is not None else 1)
        for label in set(truths) | {item["Name"] for item in found["CustomLabels"]}:
            mine = [item for item in found["CustomLabels"] if item["Name"] == label]
            label_scores = np.array([item["Confidence"] / 100 for item in mine], np.float32)
            truth = truths.get(label)
            if truth is None or label not in truths:  # classification, or a label absent from the image
                right = np.full(len(mine), label in truths, bool)
            else:
                boxes = np.array([[box["Left"], box["Top"], box["Left"] + box["Width"], box["Top"] + box["Height"]]
                                  for item in mine for box in [item["Geometry"]["BoundingBox"]]], np.float32)
                right = match_boxes(boxes.reshape(-1, 4), label_scores, truth)
            scores.setdefault(label, []).extend(label_scores.tolist())
            hits.setdefault(label, []).extend(right.tolist())
    f1s = []
    for label, count in positives.items():
        label_scores, label_hits = np.array(scores.get(label, [])), np.array(hits.get(label, []), bool)
        above = label_scores >= best_threshold(label_scores, label_hits, count)
        true_positives = int((above & label_hits).sum())
        f1s.append(2 * true_positives / max(int(above.sum()) + count, 1))
    return float(np.mean(f1s))


def held_back_truth(line: dict[str, Any]) -> dict[str, np.ndarray | None]:
    """A manifest line's labels: classification → {label: None}; detection → {label: (n, 4) boxes as ratios}."""
    if "class-metadata" in line:
        return {line["class-metadata"]["class-name"]: None}
    size = line["bounding-box"]["image_size"][0]
    names = line["bounding-box-metadata"]["class-map"]
    truth: dict[str, list[list[float]]] = {}
    for box in line["bounding-box"]["annotations"]:
        left, top = box["left"] / size["width"], box["top"] / size["height"]
        truth.setdefault(names[str(box["class_id"])], []).append(
            [left, top, left + box["width"] / size["width"], top + box["height"] / size["height"]])
    return {label: np.array(boxes, np.float32) for label, boxes in truth.items()}


def run(data_dir: Path = DATA_DIR) -> list[dict[str, object]]:
    with served_folder("reko-bench-custom-") as (server_dir, rekognition):
        bucket_dir = server_dir / "s3" / BUCKET
        masks = mask_manifests(data_dir, bucket_dir)
        hats = hard_hat_manifests(data_dir, bucket_dir)
        return [train_and_measure(rekognition, server_dir, "face-masks", *masks),
                train_and_measure(rekognition, server_dir, "hard-hats", *hats)]


def main() -> None:
    rows = run()
    print(report.markdown(rows))
    report.save("custom_labels", rows)


if __name__ == "__main__":
    main()
