"""Custom Labels training parts that the lifecycle tests cannot see one by one: views, box descriptors, artefacts."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from reko.vision.image_features import IMAGE_FEATURES_DIMENSIONS, MULTILEVEL_FEATURES_DIMENSIONS
from reko.vision.training.box_refinement import Refiner, box_descriptors
from reko.vision.training.crop_refinement import (
    CROP_CONTEXT,
    CROP_DESCRIPTOR_DIMENSIONS,
    CROP_SIDE_PX,
    CropStage,
    crop_descriptors,
    find_in_crops,
    pool,
    strongest,
)
from reko.vision.training.detection import (
    BoxHead,
    DetectionHeads,
    FeatureGrid,
    FeatureMaps,
    FoundBoxes,
    TrainingBox,
)
from reko.vision.training.detector import Detector, find_objects, fit_detector
from reko.vision.training.heads import LinearHeads, SoftmaxHead, best_threshold, fit_softmax_head
from reko.vision.training.metrics import match_boxes
from reko.vision.training.model import CLASSIFICATION, DETECTION, CustomModel
from reko.vision.training.views import SERVING_VIEW_COUNT, serving_views, training_views
from tests.conftest import needs_shared_data, shared_runtime
from tests.operations.custom_labels_data import HARD_HATS, voc_boxes

CHANNELS = 5


def test_training_views_start_with_the_serving_views(astronaut_rgb: np.ndarray) -> None:
    views = training_views(astronaut_rgb)
    assert len(views) == 11
    assert all(view.dtype == np.uint8 and view.ndim == 3 and view.shape[2] == 3 for view in views)
    served = serving_views(astronaut_rgb)
    assert len(served) == SERVING_VIEW_COUNT
    for view, expected in zip(views, served, strict=False):
        np.testing.assert_array_equal(view, expected)
    np.testing.assert_array_equal(served[1][:, 0], astronaut_rgb[:, -1])


@pytest.mark.parametrize("box", [(0.0, 0.0, 64.0, 64.0), (100.0, 40.0, 180.0, 90.0), (-20.0, -20.0, 700.0, 700.0)])
def test_box_descriptors_sample_the_cells_inside_the_box(box: tuple[float, float, float, float]) -> None:
    cells = np.full((10, 12, CHANNELS), 3.0, np.float32)  # a 192x160 grid input, 16 px cells
    grid = FeatureGrid(cells, 0.5, 0.5)  # image pixels → grid-input pixels
    described = box_descriptors(grid, np.array([box], np.float32))
    assert described.shape == (1, 9 * CHANNELS + 2)
    np.testing.assert_allclose(described[0, :-2], 3.0)  # constant cells read the same anywhere, edges clipped
    width_cells = (box[2] - box[0]) * 0.5 / 16
    assert described[0, -2] == pytest.approx(np.log(width_cells), rel=1e-5)


def _refiner(rng: np.random.Generator, dimensions: int) -> Refiner:
    return Refiner(
        LinearHeads(np.zeros(dimensions, np.float32), np.ones(dimensions, np.float32),
                    rng.normal(size=(dimensions, 2)).astype(np.float32) / np.sqrt(dimensions), np.zeros(2, np.float32)),
        BoxHead(np.zeros(dimensions, np.float32), np.ones(dimensions, np.float32),
                np.zeros((dimensions, 4), np.float32), np.zeros(4, np.float32)))


def _crop_stage(rng: np.random.Generator) -> CropStage:
    refiner = _refiner(rng, CROP_DESCRIPTOR_DIMENSIONS)
    weights = rng.normal(size=(CROP_DESCRIPTOR_DIMENSIONS, 3)).astype(np.float32) / np.sqrt(CROP_DESCRIPTOR_DIMENSIONS)
    return CropStage(SoftmaxHead(refiner.classes.mean, refiner.classes.scale, weights,
                                 np.array([0.0, 1.0, 1.0], np.float32)), refiner.boxes)


def _detector(rng: np.random.Generator, stages: int, crops_per_label: bool = False) -> Detector:
    """Random heads of 1-3 stages; the crop stage a format-4 `Refiner` when `crops_per_label`."""
    heads = LinearHeads(np.zeros(CHANNELS, np.float32), np.ones(CHANNELS, np.float32),
                        rng.normal(size=(CHANNELS, 2)).astype(np.float32), np.zeros(2, np.float32))
    boxes = BoxHead(np.zeros(CHANNELS, np.float32), np.ones(CHANNELS, np.float32),
                    np.zeros((CHANNELS, 4), np.float32), np.array([0, 0, 1, 1], np.float32))
    refiner = _refiner(rng, 9 * CHANNELS + 2) if stages >= 2 else None
    crops: Refiner | CropStage | None = None
    if stages >= 3:
        crops = _refiner(rng, CROP_DESCRIPTOR_DIMENSIONS) if crops_per_label else _crop_stage(rng)
    return Detector(DetectionHeads(heads, boxes), refiner, crops)


@pytest.fixture(scope="module")
def feature_maps() -> FeatureMaps:
    return FeatureMaps(shared_runtime())


@pytest.mark.parametrize(("stages", "crops_per_label"), [(1, False), (2, False), (3, True), (3, False)])
def test_a_detector_artefact_round_trips(stages: int, crops_per_label: bool, feature_maps: FeatureMaps) -> None:
    rng = np.random.default_rng(0)
    model = CustomModel(DETECTION, ("head", "helmet"), np.array([0.4, 0.6], np.float32),
                        detector=_detector(rng, stages, crops_per_label))
    assert model.artefact_format == ("reko-custom-labels-4" if crops_per_label else "reko-custom-labels-5")
    loaded = CustomModel.from_bytes(model.to_bytes())
    assert loaded.detector is not None and model.detector is not None
    assert (loaded.detector.refiner is not None, loaded.detector.crops is not None) == (stages >= 2, stages >= 3)
    assert type(loaded.detector.crops) is type(model.detector.crops)
    image = rng.integers(0, 256, (128, 128, 3), np.uint8)
    grid = FeatureGrid(rng.normal(size=(8, 8, CHANNELS)).astype(np.float32), 1.0, 1.0, image=image)
    found_before = find_objects(model.detector, grid, 0.2, feature_maps)
    found_after = find_objects(loaded.detector, grid, 0.2, feature_maps)
    assert found_before, "the random heads find something to compare"
    for before, after in zip(found_before, found_after, strict=True):
        assert before.label_index == after.label_index
        np.testing.assert_allclose(before.boxes, after.boxes, rtol=1e-4)
        assert (after.scores >= 0.2).all() and (np.diff(after.scores) <= 0).all()
    if stages == 3:
        assert sum(len(group.boxes) for group in found_after) <= 20
        with pytest.raises(ValueError, match="feature maps"):
            find_objects(loaded.detector, grid, 0.2)


def _with_format(data: bytes, artefact_format: str) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["format"] = np.array(artefact_format)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _without_stages(data: bytes, *prefixes: str) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files if not name.startswith(tuple(f"{p}_" for p in prefixes))}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def test_a_format_1_detector_runs_its_first_stage_and_unknown_formats_are_refused() -> None:
    model = CustomModel(DETECTION, ("head", "helmet"), np.array([0.5, 0.5], np.float32),
                        detector=_detector(np.random.default_rng(1), 3))
    older = CustomModel.from_bytes(_with_format(_without_stages(model.to_bytes(), "refine", "crop"),
                                                "reko-custom-labels-1"))
    assert older.detector is not None and older.detector.refiner is None and older.detector.crops is None
    two_stages = CustomModel.from_bytes(_with_format(_without_stages(model.to_bytes(), "crop"),
                                                     "reko-custom-labels-3"))
    assert two_stages.detector is not None and two_stages.detector.refiner is not None
    assert two_stages.detector.crops is None
    with pytest.raises(ValueError, match="format"):
        CustomModel.from_bytes(_with_format(model.to_bytes(), "reko-custom-labels-9"))


def test_crop_descriptors_see_the_box_at_the_crop_centre(feature_maps: FeatureMaps) -> None:
    """A bright square on grey: its crop's descriptor differs from one of plain grey, and a box outside the image
    still gives a descriptor (its edges repeated), one row a box."""
    image = np.full((200, 300, 3), 120, np.uint8)
    image[80:120, 130:170] = 250
    boxes = np.array([[130, 80, 170, 120], [10, 10, 50, 50], [-30, -30, 10, 10]], np.float32)
    described = crop_descriptors(feature_maps, image, boxes)
    assert described.shape == (3, CROP_DESCRIPTOR_DIMENSIONS)
    assert np.isfinite(described).all()
    assert np.abs(described[0] - described[1]).max() > 0.1
    np.testing.assert_allclose(described[1, :-2], described[2, :-2], atol=1e-4)  # plain grey both
    assert described[0, -2] == pytest.approx(np.log(40 / 16))
    assert crop_descriptors(feature_maps, image, np.zeros((0, 4), np.float32)).shape == (0, CROP_DESCRIPTOR_DIMENSIONS)
    assert CROP_SIDE_PX % 32 == 0 and CROP_CONTEXT >= 1


def test_strongest_keeps_the_best_boxes_over_all_labels() -> None:
    boxes = np.zeros((3, 4), np.float32)
    candidates = [FoundBoxes(0, boxes, np.array([0.9, 0.5, 0.1], np.float32)),
                  FoundBoxes(1, boxes, np.array([0.8, 0.4, 0.05], np.float32))]
    kept = strongest(candidates, 3)
    assert [(group.label_index, group.scores.tolist()) for group in kept] == [
        (0, pytest.approx([0.9, 0.5])), (1, pytest.approx([0.8]))]
    assert strongest(candidates, 10) == candidates


def test_box_descriptors_read_the_grid_at_its_own_stride() -> None:
    """An 8 px grid (PPE's head maps) is sampled in its own cells: each column holds its index, so the centre
    sample of a box tells which cell was read."""
    cells = np.broadcast_to(np.arange(12, dtype=np.float32)[None, :, None], (10, 12, CHANNELS)).copy()
    grid = FeatureGrid(cells, 1.0, 1.0, stride_px=8)
    described = box_descriptors(grid, np.array([[40.0, 16.0, 56.0, 32.0]], np.float32))  # centre x 48 px
    centre = described[0, 4 * CHANNELS]  # the middle of the 3x3 points
    assert centre == pytest.approx(48 / 8 - 0.5)
    assert described[0, -2] == pytest.approx(np.log(16 / 8))


def test_box_descriptors_of_no_box_are_empty() -> None:
    grid = FeatureGrid(np.zeros((4, 4, CHANNELS), np.float32), 1.0, 1.0)
    assert box_descriptors(grid, np.zeros((0, 4), np.float32)).shape == (0, 9 * CHANNELS + 2)


def _classifier(dimensions: int) -> CustomModel:
    rng = np.random.default_rng(2)
    heads = LinearHeads(np.zeros(dimensions, np.float32), np.ones(dimensions, np.float32),
                        rng.normal(size=(dimensions, 2)).astype(np.float32), np.zeros(2, np.float32))
    return CustomModel(CLASSIFICATION, ("with_mask", "without_mask"), np.array([0.5, 0.5], np.float32),
                       classifier=heads)


def test_a_classifier_reads_multilevel_features_and_an_older_one_the_pooled_ones() -> None:
    current = CustomModel.from_bytes(_classifier(MULTILEVEL_FEATURES_DIMENSIONS).to_bytes())
    assert not current.classifier_reads_pooled_only
    assert current.classifier is not None and current.classifier.weights.shape[0] == MULTILEVEL_FEATURES_DIMENSIONS
    older = CustomModel.from_bytes(_with_format(_classifier(IMAGE_FEATURES_DIMENSIONS).to_bytes(),
                                                "reko-custom-labels-2"))
    assert older.classifier_reads_pooled_only
    with pytest.raises(ValueError, match="pooled"):  # an older format with multi-level heads is not misread
        CustomModel.from_bytes(_with_format(_classifier(MULTILEVEL_FEATURES_DIMENSIONS).to_bytes(),
                                            "reko-custom-labels-2"))


def test_pool_takes_one_box_an_object_with_each_labels_best_score() -> None:
    box = np.array([[10, 10, 50, 50]], np.float32)
    near = np.array([[12, 10, 52, 50]], np.float32)  # IoU 0.9 with `box`
    far = np.array([[100, 100, 140, 140]], np.float32)
    candidates = [FoundBoxes(0, np.concatenate([box, far]), np.array([0.9, 0.3], np.float32)),
                  FoundBoxes(1, near, np.array([0.6], np.float32))]
    pooled = pool(candidates, 2)
    np.testing.assert_allclose(pooled.boxes, np.concatenate([box, far]))
    np.testing.assert_allclose(pooled.scores, [[0.9, 0.6], [0.3, 0.0]])
    assert len(pool(candidates, 2, count=1).boxes) == 1
    empty = pool([], 3)
    assert empty.boxes.shape == (0, 4) and empty.scores.shape == (0, 3)


@pytest.mark.parametrize("present", [(0, 1, 2), (0, 2)])
def test_a_softmax_head_keeps_every_class_and_never_predicts_an_absent_one(present: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    centres = {0: (0.0, 0.0), 1: (4.0, 0.0), 2: (0.0, 4.0)}
    classes = np.repeat(np.array(present), 40)
    features = np.array([centres[int(c)] for c in classes]) + rng.normal(scale=0.5, size=(len(classes), 2))
    head = fit_softmax_head(features.astype(np.float32), classes, 3, c=1.0)
    probabilities = head.probabilities(features.astype(np.float32))
    assert probabilities.shape == (len(classes), 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities.argmax(axis=1) == classes).mean() > 0.95
    if 1 not in present:
        assert probabilities[:, 1].max() < 1e-6
    with pytest.raises(ValueError, match="two classes"):
        fit_softmax_head(features[:5].astype(np.float32), np.zeros(5, int), 3, c=1.0)


def test_the_crop_stage_answers_a_mirrored_photo_with_mirrored_boxes(
    astronaut_rgb: np.ndarray, feature_maps: FeatureMaps
) -> None:
    """Each crop is judged with its mirror, so the stage cannot prefer a side: the astronaut photo flipped left to
    right gives the same scores and the flipped boxes."""
    rng = np.random.default_rng(4)
    stage = _crop_stage(rng)
    stage = CropStage(stage.classes, BoxHead(stage.boxes.mean, stage.boxes.scale,
                                             rng.normal(size=stage.boxes.weights.shape).astype(np.float32) * 1e-4,
                                             np.array([0.1, 0.0, 0.0, 0.0], np.float32)))
    width = astronaut_rgb.shape[1]
    boxes = np.array([[180, 40, 320, 200], [60, 250, 200, 400]], np.float32)
    mirrored_boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)
    found = find_in_crops(stage, FeatureGrid(np.zeros((1, 1, 1), np.float32), 1, 1, image=astronaut_rgb),
                          [FoundBoxes(0, boxes, np.array([0.8, 0.5], np.float32))], 0.0, feature_maps)
    mirrored_photo = np.ascontiguousarray(astronaut_rgb[:, ::-1])
    found_mirrored = find_in_crops(stage, FeatureGrid(np.zeros((1, 1, 1), np.float32), 1, 1, image=mirrored_photo),
                                   [FoundBoxes(0, mirrored_boxes, np.array([0.8, 0.5], np.float32))], 0.0,
                                   feature_maps)
    assert [group.label_index for group in found] == [group.label_index for group in found_mirrored] == [0, 1]
    for group, mirrored in zip(found, found_mirrored, strict=True):
        np.testing.assert_allclose(group.scores, mirrored.scores, atol=0.01)
        flipped = np.stack([width - mirrored.boxes[:, 2], mirrored.boxes[:, 1], width - mirrored.boxes[:, 0],
                            mirrored.boxes[:, 3]], axis=1)
        np.testing.assert_allclose(group.boxes, flipped, atol=1.5)
    assert not np.allclose(found[0].boxes, boxes)  # the stage moved them (its bias shifts each centre)


def _hard_hat_photos(start: int, count: int) -> tuple[list[np.ndarray], list[list[TrainingBox]]]:
    files = sorted((HARD_HATS / "annotations").glob("*.xml"), key=lambda path: int(path.stem.split("workers")[1]))
    images, boxes = [], []
    for xml_path in files[start : start + count]:
        _, found = voc_boxes(xml_path)
        images.append(np.asarray(Image.open(HARD_HATS / "images" / f"{xml_path.stem}.png").convert("RGB")))
        boxes.append([TrainingBox(("helmet", "head").index(label), left, top, width, height)
                      for label, left, top, width, height in found if label in ("helmet", "head")])
    return images, boxes


@needs_shared_data("ppe", "hard_hat_workers")
def test_three_stages_fitted_on_40_photos_find_helmets_in_10_others(feature_maps: FeatureMaps) -> None:
    """The real detector, in process: fitted on hard-hat photos 0-39, judged on photos 40-49 it never saw (helmet F1
    0.82 on their 27 helmets at the F1-best threshold when written; 0.56 with the softmax's label columns swapped)."""
    train_images, train_boxes = _hard_hat_photos(0, 40)
    test_images, test_boxes = _hard_hat_photos(40, 10)
    detector = fit_detector([feature_maps.describe(rgb) for rgb in train_images], train_boxes, 2, feature_maps)
    assert isinstance(detector.crops, CropStage)
    scores, hits, positives = [], [], 0
    for rgb, image_boxes in zip(test_images, test_boxes, strict=True):
        truth = np.array([[b.left, b.top, b.left + b.width, b.top + b.height] for b in image_boxes
                          if b.label_index == 0], np.float32).reshape(-1, 4)
        positives += len(truth)
        for group in find_objects(detector, feature_maps.describe(rgb), feature_maps=feature_maps):
            if group.label_index == 0:
                scores += group.scores.tolist()
                hits += match_boxes(group.boxes, group.scores, truth).tolist()
    found, right = np.array(scores), np.array(hits, bool)
    above = found >= best_threshold(found, right, positives)
    f1 = 2 * int((above & right).sum()) / (int(above.sum()) + positives)
    assert positives >= 20 and f1 >= 0.6, f"helmet F1 {f1:.3f} on {positives} helmets"
