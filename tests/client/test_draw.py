"""`reko.client.draw`: real answers and hand-written PPE / custom-label answers drawn where their boxes are."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from reko.client import (
    BoundingBox,
    CompareFacesResult,
    Credentials,
    DetectCustomLabelsResult,
    DetectFacesResult,
    DetectProtectiveEquipmentResult,
    RekoClient,
    S3Location,
    draw,
)
from reko.client.draw import COVERED_RGB, LABEL_RGB, NOT_COVERED_RGB
from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from tests.client.test_entities import CUSTOM_LABELS_ANSWER, PPE_ANSWER
from tests.conftest import TEST_IMAGES, RunningServer, test_image

ASTRONAUT = TEST_IMAGES / "astronaut.png"
GREY_RGB = (128, 128, 128)


@pytest.fixture(scope="module")
def client(server: RunningServer) -> RekoClient:
    return RekoClient(server.url, "us-east-1", Credentials(DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY))


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels the drawing changed."""
    return np.any(before != after, axis=2)


def edge_changed_share(mask: np.ndarray, box: BoundingBox) -> float:
    """The share of the box's outline pixels that changed (1.0: all of its four sides are drawn)."""
    height, width = mask.shape
    left, top, right, bottom = box.to_pixels(width, height)
    outline = np.concatenate([
        mask[top, left:right], mask[bottom, left:right], mask[top:bottom, left], mask[top:bottom, right],
    ])
    return float(outline.mean())


def outside(mask: np.ndarray, box: BoundingBox, margin_px: int) -> np.ndarray:
    """The mask with everything within `margin_px` of the box cleared: what changed far from it."""
    height, width = mask.shape
    left, top, right, bottom = box.to_pixels(width, height)
    far = mask.copy()
    far[max(0, top - margin_px * 4):bottom + margin_px, max(0, left - margin_px):right + margin_px] = False
    return far  # (4× above: the caption sits on a strip above the box)


def test_detected_faces_are_drawn_on_their_box_and_nowhere_else(client: RekoClient) -> None:
    result = client.detect_faces(ASTRONAUT)
    (face,) = result.faces
    assert face.bounding_box is not None
    before = test_image("astronaut.png")
    drawn = draw(ASTRONAUT, result)
    assert drawn.size == (512, 512) and drawn.mode == "RGB"
    mask = changed(before, np.asarray(drawn))
    assert edge_changed_share(mask, face.bounding_box) > 0.9
    assert not outside(mask, face.bounding_box, margin_px=8).any()
    for mark in face.landmarks or ():  # each landmark is a dot
        x, y = mark.to_pixels(512, 512)
        assert mask[y, x]


def test_a_comparison_is_drawn_on_the_target(client: RekoClient) -> None:
    result = client.compare_faces(ASTRONAUT, ASTRONAUT)
    (match,) = result.matches
    assert isinstance(result, CompareFacesResult) and match.face is not None and match.face.bounding_box
    drawn = np.asarray(draw(test_image("astronaut.png"), result))
    left, top, right, _ = match.face.bounding_box.to_pixels(512, 512)
    assert tuple(drawn[top + 20, left]) == COVERED_RGB  # matched: green outline


def test_label_instances_are_drawn_with_their_names(client: RekoClient) -> None:
    result = client.detect_labels(test_image("chelsea.png"))
    boxes = [i.bounding_box for label in result.labels for i in label.instances or () if i.bounding_box]
    assert boxes, "Chelsea the cat is found as a Cat instance"
    before = test_image("chelsea.png")
    mask = changed(before, np.asarray(draw(before, result)))
    assert edge_changed_share(mask, boxes[0]) > 0.5  # captions of other instances may overlap the outline


def test_ppe_equipment_is_coloured_by_whether_it_covers() -> None:
    canvas = np.full((400, 400, 3), GREY_RGB, np.uint8)
    drawn = np.asarray(draw(canvas, DetectProtectiveEquipmentResult.from_api(PPE_ANSWER)))
    helmet = BoundingBox(0.2, 0.1, 0.2, 0.1)  # covers its head: green
    mask_box = BoundingBox(0.16, 0.08, 0.22, 0.3)  # below the nose: red
    for box, rgb in ((helmet, COVERED_RGB), (mask_box, NOT_COVERED_RGB)):
        left, top, right, bottom = box.to_pixels(400, 400)
        assert tuple(drawn[bottom, (left + right) // 2]) == rgb
        assert tuple(drawn[(top + bottom) // 2, right]) == rgb
    assert tuple(drawn[395, 5]) == GREY_RGB


def test_a_custom_label_polygon_is_outlined_and_a_label_without_geometry_is_not_drawn() -> None:
    canvas = Image.new("RGB", (300, 300), GREY_RGB)
    drawn = np.asarray(draw(canvas, DetectCustomLabelsResult.from_api(CUSTOM_LABELS_ANSWER)))
    assert tuple(drawn[135, 150]) == LABEL_RGB  # the polygon's right side: x 0.5 × 300, y between 120 and 150
    assert tuple(drawn[135, 120]) == GREY_RGB  # inside it, nothing
    assert canvas.getpixel((5, 5)) == GREY_RGB  # the input is untouched


def test_drawing_needs_pixels_not_an_s3_location() -> None:
    with pytest.raises(TypeError, match="S3Location"):
        draw(S3Location("bucket", "key.jpg"), DetectFacesResult(faces=()))
