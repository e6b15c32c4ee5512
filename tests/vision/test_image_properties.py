"""Image quality, dominant colours and the foreground split on synthetic images whose answers are known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import ImageColor

from reko.vision.css_colors import CSS_COLORS, SIMPLIFIED_COLORS
from reko.vision.foreground import centre_mask, foreground_mask
from reko.vision.image_properties import dominant_colors, image_quality
from tests.conftest import test_image


def red_blue(height: int = 120, width: int = 200, red_fraction: float = 0.7) -> np.ndarray:
    """Pure red on the left `red_fraction` of the columns, pure blue on the rest."""
    rgb = np.zeros((height, width, 3), np.uint8)
    split = round(width * red_fraction)
    rgb[:, :split, 0] = 255
    rgb[:, split:, 2] = 255
    return rgb


def test_css_table_is_pillows_css_names_one_per_value() -> None:
    # ImageColor.getrgb, not colormap: Pillow caches parsed tuples into colormap once a name has been looked up.
    assert all(ImageColor.getrgb(name) == ImageColor.getrgb(code) for name, code, _ in CSS_COLORS)
    assert {ImageColor.getrgb(code) for _, code, _ in CSS_COLORS} == {
        ImageColor.getrgb(name) for name in ImageColor.colormap
    }
    assert len({code for _, code, _ in CSS_COLORS}) == len(CSS_COLORS) == 139
    assert {simplified for *_, simplified in CSS_COLORS} == set(SIMPLIFIED_COLORS)
    assert len(SIMPLIFIED_COLORS) == 12


def test_red_and_blue_with_their_shares() -> None:
    colors = dominant_colors(red_blue(), max_colors=5)
    assert [(c.css_name, c.simplified, c.rgb, c.hex_code) for c in colors] == [
        ("red", "red", (255, 0, 0), "#ff0000"),
        ("blue", "blue", (0, 0, 255), "#0000ff"),
    ]
    assert [c.pixel_percent for c in colors] == pytest.approx([70.0, 30.0], abs=0.5)


@pytest.mark.parametrize(
    ("rgb", "name", "simplified"),
    [((250, 250, 250), "white", "white"), ((5, 5, 5), "black", "black"), ((128, 128, 128), "gray", "grey"),
     ((47, 79, 79), "darkslategrey", "grey"), ((0, 128, 0), "green", "green"), ((255, 165, 0), "orange", "orange")],
)
def test_flat_colour_gets_its_css_name(rgb: tuple[int, int, int], name: str, simplified: str) -> None:
    flat = np.full((90, 90, 3), rgb, np.uint8)
    [color] = dominant_colors(flat)
    assert (color.css_name, color.simplified, color.pixel_percent) == (name, simplified, 100.0)


def test_mask_counts_only_its_pixels() -> None:
    rgb = red_blue()
    mask = np.zeros(rgb.shape[:2], bool)
    mask[:, 150:] = True  # the blue part only
    assert [(c.css_name, c.pixel_percent) for c in dominant_colors(rgb, mask)] == [("blue", 100.0)]
    assert dominant_colors(rgb, np.zeros(rgb.shape[:2], bool)) == []


def test_max_colors_and_min_percent() -> None:
    rgb = red_blue(red_fraction=0.96)
    assert [c.css_name for c in dominant_colors(rgb, max_colors=1)] == ["red"]
    assert [c.css_name for c in dominant_colors(rgb, min_percent=5.0)] == ["red"]
    assert dominant_colors(rgb, max_colors=0) == []
    with pytest.raises(ValueError):
        dominant_colors(rgb, max_colors=21)


def test_brightness_rises_with_light() -> None:
    photo = test_image("coffee.png")
    levels = [image_quality(cv2.convertScaleAbs(photo, alpha=1.0, beta=b)).brightness for b in (-80, -40, 0, 40, 80)]
    assert levels == sorted(levels) and levels[-1] - levels[0] > 40
    assert image_quality(np.zeros((100, 100, 3), np.uint8)).brightness == 0.0
    assert image_quality(np.full((100, 100, 3), 255, np.uint8)).brightness == 100.0


def test_contrast_rises_when_luma_is_stretched() -> None:
    photo = test_image("coffee.png").astype(np.float32)
    mean = photo.mean()
    levels = [
        image_quality(np.clip(mean + gain * (photo - mean), 0, 255).astype(np.uint8)).contrast
        for gain in (0.25, 0.5, 0.75, 1.0)
    ]
    assert levels == sorted(levels) and levels[0] < levels[-1] / 2
    assert image_quality(np.full((100, 100, 3), 90, np.uint8)).contrast == 0.0


def test_sharpness_falls_with_blur() -> None:
    photo = test_image("astronaut.png")
    levels = [image_quality(cv2.GaussianBlur(photo, (0, 0), sigma)).sharpness for sigma in (0.5, 1, 2, 4)]
    levels.insert(0, image_quality(photo).sharpness)
    assert levels == sorted(levels, reverse=True) and levels[-1] < levels[0] / 3
    assert all(0.0 <= value <= 100.0 for value in levels)


def test_quality_of_a_mask_reads_only_its_pixels() -> None:
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[:, 100:] = 200
    mask = np.zeros((100, 200), bool)
    mask[:, 120:] = True
    quality = image_quality(rgb, mask)
    assert quality.brightness == pytest.approx(100 * 200 / 255, abs=0.5)
    assert quality.contrast == 0.0
    assert image_quality(rgb, np.zeros((100, 200), bool)).brightness == 0.0


def test_foreground_is_the_union_of_boxes_else_the_centre() -> None:
    mask = foreground_mask(100, 200, np.array([[10, 10, 50, 40], [40, 30, 300, 60]], np.float32))
    assert mask.sum() == 40 * 30 + 160 * 30 - 10 * 10
    assert mask[59, 199] and not mask[60, 100]
    assert (foreground_mask(100, 200, np.zeros((0, 4))) == centre_mask(100, 200)).all()
    assert centre_mask(100, 200).sum() == 80 * 160
