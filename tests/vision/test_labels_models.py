"""The models behind DetectLabels on the committed photos: the COCO detector and the ImageNet classifier."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from reko.vision.boxes import iou_matrix
from reko.vision.labels.classifier import ImageClassifier, preprocess
from reko.vision.labels.confidence import LabelConfidence
from reko.vision.labels.objects import DetectedObjects, ObjectDetector
from tests.conftest import shared_runtime, test_image

CAT_CLASSES = {"tabby, tabby cat", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat, Siamese"}
# Eileen Collins in the astronaut portrait, read off the 512x512 image by eye: hair to the bottom edge, left
# shoulder to right elbow; the flag, the shuttle model and the helmet in front of her left out.
ASTRONAUT_PERSON_BOX = np.array([[20.0, 12.0, 365.0, 512.0]])


@functools.cache
def detector(tile_grid: int = 0) -> ObjectDetector:
    return ObjectDetector(shared_runtime(), tile_grid=tile_grid)


@functools.cache
def classifier() -> ImageClassifier:
    return ImageClassifier(shared_runtime())


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("chelsea.png", CAT_CLASSES),
        ("coffee.png", {"espresso"}),
    ],
)
def test_the_top_class_names_what_the_photo_shows(image: str, expected: set[str]) -> None:
    names, probabilities = classifier().classify(test_image(image))
    assert names[0] in expected
    assert probabilities[0] > 0.3


def test_classes_come_most_probable_first_and_sum_below_one() -> None:
    names, probabilities = classifier().classify(test_image("chelsea.png"), top_k=10)
    assert len(names) == len(probabilities) == 10
    assert np.all(np.diff(probabilities) <= 0)
    assert 0 < probabilities.sum() <= 1 + 1e-6
    assert sum(name in CAT_CLASSES for name in names[:3]) >= 2  # the cat breeds crowd the top


def test_the_full_distribution_covers_the_thousand_imagenet_classes() -> None:
    model = classifier()
    probabilities = model.probabilities(test_image("coffee.png"))
    assert probabilities.shape == (1000,) == (len(model.class_names),)
    assert abs(float(probabilities.sum()) - 1) < 1e-4
    assert model.class_names[0] == "tench, Tinca tinca"
    assert model.class_names[2].endswith("Carcharodon carcharias")  # a name split over two literals in the source


@pytest.mark.parametrize(("height", "width"), [(480, 640), (640, 480), (100, 100), (81, 300)])
def test_the_classifier_sees_the_padded_centre_square(height: int, width: int) -> None:
    rgb = np.zeros((height, width, 3), np.uint8)
    crop = int(224 / 256 * min(height, width))
    top, left = (height - crop + 1) // 2, (width - crop + 1) // 2
    rgb[top : top + crop, left : left + crop] = 255
    tensor = preprocess(rgb, 224)
    assert tensor.shape == (1, 3, 224, 224)
    assert tensor.dtype == np.float32
    assert np.allclose(tensor, 128 / 128)  # only the white square is seen: (255 - 127) / 128 everywhere


def test_the_astronaut_is_found_as_a_person_with_a_box_around_her() -> None:
    found = detector().find_objects(test_image("astronaut.png"))
    people = found.take(np.flatnonzero(np.array(found.class_names) == "person"))
    assert len(people) >= 1
    assert people.scores[0] > 0.5
    assert iou_matrix(people.boxes[:1], ASTRONAUT_PERSON_BOX)[0, 0] > 0.8


@pytest.mark.parametrize(("image", "expected"), [("chelsea.png", "cat"), ("coffee.png", "cup")])
def test_the_main_object_of_each_photo_is_found(image: str, expected: str) -> None:
    found = detector().find_objects(test_image(image))
    assert found.class_names[0] == expected
    assert found.scores[0] > 0.5


def test_objects_are_sorted_clipped_and_of_known_classes() -> None:
    rgb = test_image("coffee.png")
    found = detector().find_objects(rgb)
    height, width = rgb.shape[:2]
    assert len(found) > 1
    assert np.all(np.diff(found.scores) <= 0)
    assert np.all(found.scores >= detector().score_threshold)
    assert np.all(found.boxes >= 0)
    assert np.all(found.boxes[:, [0, 2]] <= width) and np.all(found.boxes[:, [1, 3]] <= height)
    assert set(found.class_names) <= set(detector().class_names)
    assert len(detector().class_names) == 80


@pytest.mark.parametrize("tile_grid", [0, 3])
def test_no_two_boxes_of_one_class_overlap_beyond_the_merge_threshold(tile_grid: int) -> None:
    """One pass is suppressed at `nms_iou`; several passes are fused at `fusion_iou`."""
    found = detector(tile_grid=tile_grid).find_objects(test_image("astronaut.png"))
    threshold = detector().fusion_iou if tile_grid > 1 else detector().nms_iou
    assert threshold is not None
    for name in set(found.class_names):
        same = found.take(np.flatnonzero(np.array(found.class_names) == name))
        overlaps = iou_matrix(same.boxes, same.boxes) - np.eye(len(same))
        assert overlaps.max(initial=0) <= threshold + 1e-6


def test_tiles_find_people_too_small_for_the_whole_image_pass() -> None:
    """Sixteen astronauts in a 4x4 mosaic (each 128 px) are small for the 300 px network; tiles enlarge them."""
    mosaic = np.tile(test_image("astronaut.png")[::4, ::4], (4, 4, 1))
    whole = detector().find_objects(mosaic)
    tiled = detector(tile_grid=3).find_objects(mosaic)

    def confident_people(found: DetectedObjects) -> int:
        pairs = zip(found.class_names, found.scores, strict=True)
        return sum(name == "person" and score > 0.5 for name, score in pairs)

    assert confident_people(tiled) > confident_people(whole)


def test_a_large_photo_is_shrunk_before_the_network_and_boxes_come_back_in_its_pixels() -> None:
    small = test_image("astronaut.png")
    large = np.repeat(np.repeat(small, 4, axis=0), 4, axis=1)  # 2048 px: fed at 1280
    found_small, found_large = detector().find_objects(small), detector().find_objects(large)
    assert found_large.class_names[0] == found_small.class_names[0] == "person"
    assert iou_matrix(found_large.boxes[:1] / 4, found_small.boxes[:1])[0, 0] > 0.9


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32)])
def test_both_models_refuse_what_is_not_an_rgb_image(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB"):
        detector().find_objects(bad)
    with pytest.raises(ValueError, match="RGB"):
        classifier().classify(bad)


def test_detected_objects_check_their_shapes() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        DetectedObjects(boxes=np.zeros((2, 4), np.float32), scores=np.zeros(2, np.float32), class_names=("cat",))
    assert len(DetectedObjects.empty()) == 0


def test_fused_boxes_are_read_with_their_own_confidence_curve() -> None:
    """Fusion's noisy-or scores read higher than one pass's for the same odds, so the same score means less."""
    confidence = LabelConfidence.load(shared_runtime().model_path("label-confidence"))
    scores = np.array([0.3, 0.6, 0.9], np.float32)
    single, fused = confidence.objects(scores, fused=False), confidence.objects(scores, fused=True)
    np.testing.assert_array_equal(single, confidence.detector.probability(scores))
    np.testing.assert_array_equal(fused, confidence.detector_fused.probability(scores))
    assert np.all(fused < single) and np.all(np.diff(fused) > 0)


def test_the_passes_merge_into_one_box_per_object() -> None:
    """With tiles always on, the astronaut (seen whole by several passes) is one person box, not several."""
    found = detector(tile_grid=2).find_objects(test_image("astronaut.png"))
    people = found.take(np.flatnonzero(np.array(found.class_names) == "person"))
    confident = people.scores > 0.5
    assert confident.sum() == 1
