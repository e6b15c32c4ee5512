"""DetectLabels' IMAGE_PROPERTIES feature: the `ImageProperties` member and each instance's `DominantColors`.

Quality for the whole image carries Brightness, Sharpness and Contrast; Foreground and Background carry
Brightness and Sharpness only, as Rekognition documents them ("defined by brightness and sharpness") and answers.
The foreground is the union of the instance boxes the labels found (`reko.vision.foreground`), so with
GENERAL_LABELS off the caller may still pass the detector's boxes. A part with no pixel is left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reko.vision.foreground import foreground_mask
from reko.vision.image_properties import DominantColor, Quality, dominant_colors, image_quality

DEFAULT_MAX_DOMINANT_COLORS = 10  # DetectLabelsImagePropertiesSettings.MaxDominantColors: "The default value is 10."
# Rekognition leaves small shares out: a recorded answer lists no colour under 10.3 % although its whole-image
# list sums to only 48 %. The cut here is a guess below the smallest share seen; the 139-name palette splits a
# smooth photo region over neighbouring names, so shares under a few percent are noise to a reader.
MIN_DOMINANT_PIXEL_PERCENT = 5.0


def image_properties(
    rgb: np.ndarray, instance_boxes: np.ndarray, request_settings: dict[str, Any] | None
) -> dict[str, Any]:
    """The `ImageProperties` member of a DetectLabels answer.

    Args:
        rgb: (h, w, 3) uint8 RGB, the decoded request image.
        instance_boxes: (n, 4) xyxy pixel boxes of the label instances found (may be empty).
        request_settings: the request's `Settings` (DetectLabelsSettings) or None.

    Returns:
        {"Quality", "DominantColors", "Foreground", "Background"} in botocore's DetectLabelsImageProperties shape.
    """
    max_colors = max_dominant_colors(request_settings)
    foreground = foreground_mask(rgb.shape[0], rgb.shape[1], instance_boxes)
    answer: dict[str, Any] = {
        "Quality": _quality(image_quality(rgb), with_contrast=True),
        "DominantColors": _colors(rgb, None, max_colors),
    }
    for member, mask in (("Foreground", foreground), ("Background", ~foreground)):
        if mask.any():
            answer[member] = {
                "Quality": _quality(image_quality(rgb, mask), with_contrast=False),
                "DominantColors": _colors(rgb, mask, max_colors),
            }
    return answer


def instance_dominant_colors(
    rgb: np.ndarray, box: np.ndarray, max_colors: int = DEFAULT_MAX_DOMINANT_COLORS
) -> list[dict[str, Any]]:
    """`Instance.DominantColors` of one xyxy pixel box (clipped to the image; an empty crop has none)."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    crop = rgb[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
    if crop.size == 0:
        return []
    return _colors(np.ascontiguousarray(crop), None, max_colors)


def max_dominant_colors(request_settings: dict[str, Any] | None) -> int:
    """`Settings.ImageProperties.MaxDominantColors`, 10 when absent (the edge has checked its 0–20 range)."""
    value = ((request_settings or {}).get("ImageProperties") or {}).get("MaxDominantColors")
    return DEFAULT_MAX_DOMINANT_COLORS if value is None else int(value)


def _quality(quality: Quality, with_contrast: bool) -> dict[str, float]:
    answer = {"Brightness": quality.brightness, "Sharpness": quality.sharpness}
    if with_contrast:
        answer["Contrast"] = quality.contrast
    return answer


def _colors(rgb: np.ndarray, mask: np.ndarray | None, max_colors: int) -> list[dict[str, Any]]:
    return [_color(c) for c in dominant_colors(rgb, mask, max_colors, MIN_DOMINANT_PIXEL_PERCENT)]


def _color(color: DominantColor) -> dict[str, Any]:
    red, green, blue = color.rgb
    return {
        "Red": red,
        "Green": green,
        "Blue": blue,
        "HexCode": color.hex_code,
        "CSSColor": color.css_name,
        "SimplifiedColor": color.simplified,
        "PixelPercent": color.pixel_percent,
    }
