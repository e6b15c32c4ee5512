"""Custom Labels object detection, its three stages together: cells (`detection`), boxes on the image's feature map
(`box_refinement`), boxes on their own crops (`crop_refinement`). Each stage is fitted on the boxes the stages before
it find in the training images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reko.vision.training.box_refinement import Refiner, fit_refiner, refine
from reko.vision.training.crop_refinement import CropStage, crop_refine, find_in_crops, fit_crop_stage
from reko.vision.training.detection import (
    CANDIDATE_FLOOR,
    DetectionHeads,
    FeatureGrid,
    FeatureMaps,
    FoundBoxes,
    TrainingBox,
    find_boxes,
    fit_detection,
)


@dataclass(frozen=True)
class Detector:
    """The stages an artefact holds: `refiner` None for format 1, `crops` None before format 4, a `Refiner` (per-label
    heads) in format 4, a `CropStage` (one softmax over the labels) since format 5."""

    first: DetectionHeads
    refiner: Refiner | None = None
    crops: Refiner | CropStage | None = None


def fit_detector(
    grids: Sequence[FeatureGrid], boxes: Sequence[Sequence[TrainingBox]], label_count: int,
    feature_maps: FeatureMaps | None = None,
) -> Detector:
    """All stages; the crop stage only with `feature_maps` (the backbone its crops go through) and grids that
    keep their image."""
    first = fit_detection(grids, boxes, label_count)
    refiner = fit_refiner(grids, boxes, [find_boxes(first, grid) for grid in grids], label_count)
    if refiner is None or feature_maps is None:
        return Detector(first, refiner)
    second = Detector(first, refiner)
    candidates = [find_objects(second, grid) for grid in grids]
    return Detector(first, refiner, fit_crop_stage(grids, boxes, candidates, label_count, feature_maps))


def find_objects(
    detector: Detector, grid: FeatureGrid, floor: float = CANDIDATE_FLOOR, feature_maps: FeatureMaps | None = None,
) -> list[FoundBoxes]:
    """Every label's boxes scoring at least `floor` (probability 0-1), best first."""
    candidate_floor = min(floor, CANDIDATE_FLOOR)
    if detector.refiner is None:
        return find_boxes(detector.first, grid, floor)
    candidates = refine(detector.refiner, grid, find_boxes(detector.first, grid, candidate_floor),
                        candidate_floor if detector.crops else floor)
    if detector.crops is None:
        return candidates
    if feature_maps is None:
        raise ValueError("a detector with a crop stage needs the feature maps its crops go through")
    if isinstance(detector.crops, CropStage):
        return find_in_crops(detector.crops, grid, candidates, floor, feature_maps)
    return crop_refine(detector.crops, grid, candidates, floor, feature_maps)
