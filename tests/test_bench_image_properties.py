"""The foreground hand masks load as sane polygons, and the bench's IoU is IoU."""

from __future__ import annotations

import json

import numpy as np

from bench.image_properties import MASKS_FILE, mask_iou


def test_mask_file_polygons_are_fractions() -> None:
    images = json.loads(MASKS_FILE.read_text())["images"]
    assert len(images) == 13
    for entry in images:
        points = np.array(entry["polygon"])
        assert points.ndim == 2 and points.shape[1] == 2 and len(points) >= 3
        assert (points >= 0).all() and (points <= 1).all()
        assert entry["path"].startswith(("objects/", "tests/images/"))


def test_mask_iou() -> None:
    first = np.zeros((10, 10), bool)
    second = np.zeros((10, 10), bool)
    first[:, :6] = True
    second[:, 4:] = True
    assert mask_iou(first, second) == 20 / 100
    assert mask_iou(first, np.zeros((10, 10), bool)) == 0.0
