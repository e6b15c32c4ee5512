"""Training one Custom Labels model version: read its images, describe them with the frozen backbone, fit the heads,
pick each label's threshold, evaluate on the test data, write the evaluation files.

Classification reads `image-features-multilevel` (1712 numbers a view) of eleven views of each training image
(`reko.vision.training.views`) and fits one logistic head a label; thresholds come from 5-fold out-of-fold
probabilities of the training images (an image's views never straddle folds). Detection reads
`image-feature-maps` of each image and of its candidate boxes' crops and fits the three stages of
`reko.vision.training.detector`; thresholds come from 3-fold out-of-fold boxes. The test data is only used for the
evaluation.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reko.errors import RekognitionError
from reko.images import decode_image
from reko.store.manifests import DatasetEntry, manifest_text, parse_entry
from reko.store.objects import ObjectReader
from reko.vision.image_features import FEATURE_BATCH_SIZE
from reko.vision.training import heads as head_fitting
from reko.vision.training.detection import FeatureGrid, FeatureMaps, TrainingBox
from reko.vision.training.detector import find_objects, fit_detector
from reko.vision.training.metrics import (
    Counts,
    LabelScore,
    classification_scores,
    macro_f1,
    match_boxes,
)
from reko.vision.training.model import CLASSIFICATION, DETECTION, CustomModel, CustomModelRunner
from reko.vision.training.views import SERVING_VIEW_COUNT, serving_views, training_views

DETECTION_THRESHOLD_FOLDS = 3
MIN_TRAINING_IMAGE_SIDE_PX = 16  # smaller crops carry too little for the backbone (DESIGN.md: < 16 px fails)
Progress = Callable[[float], None]  # percent done


class TrainingFailed(Exception):
    """Training cannot succeed with this data; the message is the version's StatusMessage."""


@dataclass(frozen=True)
class TrainingResult:
    model: CustomModel
    scores: list[LabelScore]
    training_images: int
    testing_images: int


def check_training_data(train: Sequence[DatasetEntry], test: Sequence[DatasetEntry]) -> str:
    """The kind of model the data trains (CLASSIFICATION or DETECTION); TrainingFailed saying what is missing."""
    labeled = [entry for entry in train if entry.labeled]
    if not labeled:
        raise TrainingFailed("The training dataset has no labeled images")
    if not test:
        raise TrainingFailed("The test dataset has no images")
    if any(entry.boxes for entry in train):
        return DETECTION
    labels = sorted({label for entry in train for label in entry.image_labels})
    for label in labels:
        if all(label in entry.image_labels for entry in train):
            raise TrainingFailed(f"Every training image has the label {label}: a classifier needs images without "
                                 "it too (add another label or unlabeled images)")
    return CLASSIFICATION


def train_model(
    entries: dict[str, list[str]], objects: ObjectReader, runner: CustomModelRunner, progress: Progress
) -> TrainingResult:
    """Train on the job's TRAIN entries and evaluate on its TEST entries."""
    train = [parse_entry(line) for line in entries["TRAIN"]]
    test = [parse_entry(line) for line in entries["TEST"]]
    kind = check_training_data(train, test)
    labels = sorted({label for entry in train for label in entry.labels})
    images = _read_images([*train, *test], objects, lambda done: progress(60 * done))
    train_images, test_images = images[: len(train)], images[len(train):]
    if kind == CLASSIFICATION:
        model, scores = _classification(train, test, train_images, test_images, labels, runner, progress)
    else:
        model, scores = _detection(train, test, train_images, test_images, labels, runner, progress)
    progress(100)
    return TrainingResult(model, scores, len(train), len(test))


def _read_images(entries: Sequence[DatasetEntry], objects: ObjectReader, progress: Progress) -> list[np.ndarray]:
    images = []
    for done, entry in enumerate(entries, start=1):
        try:
            data = objects.read(entry.bucket, entry.key, None)
            images.append(decode_image(data, min_side_px=MIN_TRAINING_IMAGE_SIDE_PX).rgb)
        except RekognitionError as error:
            raise TrainingFailed(f"Cannot read the image {entry.source_ref}: {error.message}") from None
        progress(done / len(entries) * 0.2)
    return images


def _targets(entries: Sequence[DatasetEntry], labels: list[str]) -> np.ndarray:
    return np.array([[label in entry.image_labels for label in labels] for entry in entries], bool).reshape(
        len(entries), len(labels))


def _classification(
    train: list[DatasetEntry], test: list[DatasetEntry], train_images: list[np.ndarray],
    test_images: list[np.ndarray], labels: list[str], runner: CustomModelRunner, progress: Progress,
) -> tuple[CustomModel, list[LabelScore]]:
    """Heads fitted on every view of the training images; test images judged on their serving views, as served."""
    view_lists = [training_views(rgb) for rgb in train_images] + [serving_views(rgb) for rgb in test_images]
    crops = [view for views in view_lists for view in views]
    features = []
    for start in range(0, len(crops), FEATURE_BATCH_SIZE):
        features.append(runner.features.describe(crops[start : start + FEATURE_BATCH_SIZE]))
        progress(20 + 60 * min(start + FEATURE_BATCH_SIZE, len(crops)) / len(crops))
    described = np.concatenate(features)
    train_count = len(train) * len(view_lists[0])
    train_views = described[:train_count].reshape(len(train), len(view_lists[0]), -1)
    test_views = described[train_count:].reshape(len(test), SERVING_VIEW_COUNT, -1)
    targets = _targets(train, labels)
    thresholds = head_fitting.best_thresholds(
        head_fitting.out_of_fold_probabilities(train_views, targets, SERVING_VIEW_COUNT), targets)
    progress(90)
    classifier = head_fitting.fit_view_heads(train_views, targets)
    model = CustomModel(CLASSIFICATION, tuple(labels), thresholds, classifier=classifier)
    scores = classification_scores(head_fitting.view_probabilities(classifier, test_views), _targets(test, labels),
                                   thresholds, labels)
    return model, scores


def _boxes(entry: DatasetEntry, rgb: np.ndarray, labels: list[str]) -> list[TrainingBox]:
    """The entry's boxes in pixels of the decoded image (which may be a reduced copy)."""
    width, height = entry.image_size or (rgb.shape[1], rgb.shape[0])
    sx, sy = rgb.shape[1] / width, rgb.shape[0] / height
    return [TrainingBox(labels.index(box.label), box.left * sx, box.top * sy, box.width * sx, box.height * sy)
            for box in entry.boxes if box.label in labels]


def _detection(
    train: list[DatasetEntry], test: list[DatasetEntry], train_images: list[np.ndarray],
    test_images: list[np.ndarray], labels: list[str], runner: CustomModelRunner, progress: Progress,
) -> tuple[CustomModel, list[LabelScore]]:
    everything = [*train_images, *test_images]
    grids: list[FeatureGrid] = []
    for done, rgb in enumerate(everything, start=1):
        grids.append(runner.feature_maps.describe(rgb))
        progress(20 + 40 * done / len(everything))
    train_grids, test_grids = grids[: len(train)], grids[len(train):]
    train_boxes = [_boxes(entry, rgb, labels) for entry, rgb in zip(train, train_images, strict=True)]
    test_boxes = [_boxes(entry, rgb, labels) for entry, rgb in zip(test, test_images, strict=True)]
    feature_maps = runner.feature_maps
    thresholds = _detection_thresholds(train_grids, train_boxes, labels, feature_maps)
    progress(85)
    detector = fit_detector(train_grids, train_boxes, len(labels), feature_maps)
    model = CustomModel(DETECTION, tuple(labels), thresholds, detector=detector)
    return model, detection_scores(model, test_grids, test_boxes, feature_maps)


def _detection_thresholds(
    grids: list[FeatureGrid], boxes: list[list[TrainingBox]], labels: list[str], feature_maps: FeatureMaps
) -> np.ndarray:
    """Each label's F1-best threshold on boxes found in images held out of the fit (3 folds by image)."""
    if len(grids) < DETECTION_THRESHOLD_FOLDS * 2:
        return np.full(len(labels), head_fitting.DEFAULT_THRESHOLD, np.float32)
    folds = np.arange(len(grids)) % DETECTION_THRESHOLD_FOLDS
    scores: list[list[float]] = [[] for _ in labels]
    hits: list[list[bool]] = [[] for _ in labels]
    positives = np.zeros(len(labels), int)
    for fold in range(DETECTION_THRESHOLD_FOLDS):
        fitted = [index for index in range(len(grids)) if folds[index] != fold]
        present = {box.label_index for index in fitted for box in boxes[index]}
        if len(present) < len(labels):
            return np.full(len(labels), head_fitting.DEFAULT_THRESHOLD, np.float32)
        detector = fit_detector([grids[i] for i in fitted], [boxes[i] for i in fitted], len(labels), feature_maps)
        model = CustomModel(DETECTION, tuple(labels), np.zeros(len(labels)), detector=detector)
        for index in np.flatnonzero(folds == fold):
            matched = _matched(model, grids[index], boxes[index], feature_maps)
            for label_index, found_scores, found_hits, truth in matched:
                scores[label_index] += found_scores
                hits[label_index] += found_hits
                positives[label_index] += truth
    return np.array([
        head_fitting.best_threshold(np.array(scores[k]), np.array(hits[k], bool), int(positives[k]))
        for k in range(len(labels))
    ], np.float32)


def _matched(
    model: CustomModel, grid: FeatureGrid, boxes: list[TrainingBox], feature_maps: FeatureMaps
) -> list[tuple[int, list[float], list[bool], int]]:
    """Per label: scores of found boxes, whether each matches a true box, and how many true boxes there are."""
    assert model.detector is not None
    found = find_objects(model.detector, grid, feature_maps=feature_maps)
    by_label = {group.label_index: group for group in found}
    result: list[tuple[int, list[float], list[bool], int]] = []
    for label_index in range(len(model.labels)):
        truth = np.array([[b.left, b.top, b.left + b.width, b.top + b.height] for b in boxes
                          if b.label_index == label_index], np.float32).reshape(-1, 4)
        group = by_label.get(label_index)
        if group is None:
            result.append((label_index, [], [], len(truth)))
            continue
        matched = match_boxes(group.boxes, group.scores, truth)
        result.append((label_index, group.scores.tolist(), matched.tolist(), len(truth)))
    return result


def detection_scores(
    model: CustomModel, grids: list[FeatureGrid], boxes: list[list[TrainingBox]], feature_maps: FeatureMaps
) -> list[LabelScore]:
    counts = [Counts() for _ in model.labels]
    images_with = np.zeros(len(model.labels), int)
    for grid, image_boxes in zip(grids, boxes, strict=True):
        for label_index, scores, hits, truth in _matched(model, grid, image_boxes, feature_maps):
            above = np.array(scores) >= model.thresholds[label_index]
            true_positives = int((np.array(hits, bool) & above).sum())
            counts[label_index].true_positives += true_positives
            counts[label_index].false_positives += int(above.sum()) - true_positives
            counts[label_index].false_negatives += truth - true_positives
            images_with[label_index] += truth > 0
    return [count.score(label, float(model.thresholds[k]), int(images_with[k]))
            for k, (label, count) in enumerate(zip(model.labels, counts, strict=True))]


def evaluation_summary(result: TrainingResult, version_arn: str, end_s: float) -> dict[str, Any]:
    """The evaluation Summary file, in the layout of Rekognition's (thresholds and metrics 0-1)."""
    scores = result.scores
    return {
        "Version": 1,
        "AggregatedEvaluationResults": {
            "F1Score": macro_f1(scores),
            "Precision": float(np.mean([score.precision for score in scores])) if scores else 0.0,
            "Recall": float(np.mean([score.recall for score in scores])) if scores else 0.0,
        },
        "EvaluationDetails": {
            "EvaluationEndTimestamp": datetime.datetime.fromtimestamp(end_s, datetime.UTC).isoformat(),
            "Labels": [score.label for score in scores],
            "NumberOfTestingImages": result.testing_images,
            "NumberOfTrainingImages": result.training_images,
            "ProjectVersionArn": version_arn,
        },
        "LabelEvaluationResults": [
            {"Label": score.label, "NumberOfTestingImages": score.test_images,
             "Metrics": {"F1Score": score.f1, "Precision": score.precision, "Recall": score.recall,
                         "Threshold": score.threshold}}
            for score in scores
        ],
    }


def write_outputs(
    objects: ObjectReader, output: dict[str, str], project: str, version: str, entries: dict[str, list[str]],
    summary: dict[str, Any],
) -> dict[str, dict[str, str]]:
    """Write the Summary and the manifests trained and tested on to the output bucket; their S3Objects."""
    bucket, prefix = output["S3Bucket"], output.get("S3KeyPrefix", "")
    written = {
        "summary": f"{prefix}EvaluationResultSummary-{project}-{version}.json",
        "TRAIN": f"{prefix}{project}/{version}/training.manifest",
        "TEST": f"{prefix}{project}/{version}/testing.manifest",
    }
    objects.write(bucket, written["summary"], json.dumps(summary, indent=1).encode())
    for kind in ("TRAIN", "TEST"):
        objects.write(bucket, written[kind], manifest_text(parse_entry(line) for line in entries[kind]).encode())
    return {name: {"Bucket": bucket, "Name": key} for name, key in written.items()}

