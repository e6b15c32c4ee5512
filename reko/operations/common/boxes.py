"""Pixels → Rekognition's coordinates: ratios of the image's width and height, origin top-left."""

from __future__ import annotations

import numpy as np


def xyxy_to_ratio_box(box: np.ndarray, width: int, height: int) -> dict[str, float]:
    """A pixel box → `BoundingBox`; values may fall outside [0, 1] for faces cut by the image edge."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return {
        "Width": (x2 - x1) / width,
        "Height": (y2 - y1) / height,
        "Left": x1 / width,
        "Top": y1 / height,
    }


def point_to_ratio(x: float, y: float, width: int, height: int) -> tuple[float, float]:
    return float(x) / width, float(y) / height

