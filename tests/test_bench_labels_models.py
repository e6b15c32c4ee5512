"""The labels-models bench reads the COCO subset as documented and scores a perfect answer as AP 1."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from bench.labels_models import COCO_SUBSET, CocoImage, detection_ap, load_coco_subset
from reko.vision.labels.objects import DetectedObjects
from tests.conftest import SHARED_DATA, needs_shared_data


def _answers(images: list[CocoImage], drop_first_person: bool) -> Iterator[DetectedObjects]:
    """The ground truth of each image in turn, as a detector would answer it (optionally missing one person)."""
    dropped = False
    for image in images:
        keep = np.ones(len(image.names), bool)
        if drop_first_person and not dropped and "person" in image.names:
            keep[image.names.index("person")] = False
            dropped = True
        indices = np.flatnonzero(keep)
        yield DetectedObjects(
            boxes=image.boxes[indices],
            scores=np.linspace(1.0, 0.5, len(indices)).astype(np.float32),
            class_names=tuple(image.names[i] for i in indices),
        )


@needs_shared_data("objects", "coco_val2017_first128")
def test_the_subset_has_its_documented_counts() -> None:
    images = load_coco_subset(SHARED_DATA / COCO_SUBSET)
    assert len(images) == 128
    assert sum(len(image.names) for image in images) == 898  # SOURCE.md
    assert all(np.all(image.boxes[:, 2:] > image.boxes[:, :2]) for image in images)


@needs_shared_data("objects", "coco_val2017_first128")
def test_the_truth_scores_one_and_a_missed_person_lowers_only_person() -> None:
    images = load_coco_subset(SHARED_DATA / COCO_SUBSET)[:20]
    perfect = _answers(images, drop_first_person=False)
    assert set(detection_ap(images, lambda rgb: next(perfect)).values()) == {1.0}
    missing = _answers(images, drop_first_person=True)
    scores = detection_ap(images, lambda rgb: next(missing))
    people = sum(image.names.count("person") for image in images)
    assert scores["person"] == (people - 1) / people
    assert all(value == 1.0 for name, value in scores.items() if name != "person")
