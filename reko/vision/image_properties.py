"""Image quality (brightness, sharpness, contrast on 0–100) and dominant colours named by CSS, for the whole image
or the pixels of a mask. Pure NumPy/OpenCV: no model, no state but two tables built once.

Quality is read from BT.601 luma Y (0–255) of a working copy whose longest side is at most
`WORK_LONG_SIDE_PX` (area-averaged), so a number means the same for a 4000 px photo and its 640 px preview:

- Brightness = 100 · mean(Y) / 255. Linear: adding light to every pixel raises it.
- Contrast = 100 · (P95(Y) − P5(Y)) / 255: the spread of the middle 90 % of luma, blind to a few specular or
  black pixels. Stretching luma about its mean raises it.
- Sharpness = 100 · v / (v + `SHARPNESS_HALF_LAPLACIAN_VAR`), v the variance of the 3x3 Laplacian of Y (the
  "variance of Laplacian" focus measure): edge energy, which any blur lowers. The half-point is set so the
  median photo of the COCO subset scores 75 (a reading aid, not a fit to Rekognition; see the constant).

Dominant colours: every pixel is mapped to the nearest of the 139 CSS colours (`reko.vision.css_colors`) in
CIELAB (ΔE76, through a 32x32x32 lookup table of 5-bit sRGB), the names are counted, and the most frequent come
back with the CSS colour's own sRGB value and the share of pixels they cover. Rekognition's answers have that
form (its Red/Green/Blue are exactly the CSS value of the name it gives); a fixed palette is also deterministic
and never returns one name twice, which k-means clusters mapped to names would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from reko.vision.css_colors import CSS_COLORS

WORK_LONG_SIDE_PX = 640
# Colours are counted on a smaller copy: 320 px keeps 76,800 pixels of a 640x480 photo, far more than a
# percentage with two decimals needs, at a quarter of the lookups.
COLOR_LONG_SIDE_PX = 320
CONTRAST_LOW_PERCENTILE = 5.0
CONTRAST_HIGH_PERCENTILE = 95.0
# Median Laplacian variance of the 128 COCO val2017 photos of ../shared/data/objects/coco_val2017_first128 at
# 640 px is 1615 (10th-90th percentile 425-5015); a half-point of a third of that maps the median to 75.
SHARPNESS_HALF_LAPLACIAN_VAR = 540.0
LUT_BITS = 5  # 32 levels a channel: quantisation error ≤ 4/255, below the spacing of the CSS palette
MAX_DOMINANT_COLORS = 20  # DetectLabelsMaxDominantColors


@dataclass(frozen=True)
class Quality:
    """Brightness, sharpness and contrast of an image or a masked part of it, each in [0, 100]."""

    brightness: float
    sharpness: float
    contrast: float


@dataclass(frozen=True)
class DominantColor:
    """One CSS colour and the share of (masked) pixels nearest to it.

    Attributes:
        rgb: the CSS colour's sRGB value, (red, green, blue) in 0–255.
        css_name: lowercase CSS name ("darkslategrey").
        simplified: one of `reko.vision.css_colors.SIMPLIFIED_COLORS`.
        pixel_percent: share of the counted pixels in [0, 100].
    """

    rgb: tuple[int, int, int]
    css_name: str
    simplified: str
    pixel_percent: float

    @property
    def hex_code(self) -> str:
        """"#rrggbb", lowercase, as Rekognition writes it."""
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


def image_quality(rgb: np.ndarray, mask: np.ndarray | None = None) -> Quality:
    """Brightness, sharpness and contrast of the image, or of the pixels where `mask` is true.

    Args:
        rgb: (h, w, 3) uint8 RGB.
        mask: optional (h, w) bool; an empty mask gives all zeros.

    Returns:
        `Quality` with each value in [0, 100] (formulas in the module docstring).
    """
    _check_image(rgb, mask)
    luma = cv2.cvtColor(_resize_long_side(rgb, WORK_LONG_SIDE_PX), cv2.COLOR_RGB2GRAY)  # BT.601, uint8
    where = None if mask is None else _resize_mask(mask, luma.shape)
    values = luma if where is None else luma[where]
    if values.size == 0:
        return Quality(0.0, 0.0, 0.0)
    laplacian = cv2.Laplacian(luma, cv2.CV_32F, ksize=1)
    edge_energy = float(np.var(laplacian if where is None else laplacian[where]))
    low, high = _percentiles_uint8(values, CONTRAST_LOW_PERCENTILE, CONTRAST_HIGH_PERCENTILE)
    return Quality(
        brightness=100.0 * float(values.mean()) / 255.0,
        sharpness=100.0 * edge_energy / (edge_energy + SHARPNESS_HALF_LAPLACIAN_VAR),
        contrast=100.0 * (high - low) / 255.0,
    )


def dominant_colors(
    rgb: np.ndarray, mask: np.ndarray | None = None, max_colors: int = 10, min_percent: float = 0.0
) -> list[DominantColor]:
    """The CSS colours covering most of the image (or of the pixels where `mask` is true), most pixels first.

    Args:
        rgb: (h, w, 3) uint8 RGB.
        mask: optional (h, w) bool.
        max_colors: at most this many colours (0–20); colours with no pixel are never listed.
        min_percent: colours covering less than this share of the counted pixels are left out.

    Returns:
        Up to `max_colors` `DominantColor`s; ties keep the CSS table's alphabetical order.

    Example:
        >>> red = np.zeros((100, 100, 3), np.uint8); red[..., 0] = 255
        >>> [(c.css_name, c.pixel_percent) for c in dominant_colors(red, max_colors=3)]
        [('red', 100.0)]
    """
    _check_image(rgb, mask)
    if not 0 <= max_colors <= MAX_DOMINANT_COLORS:
        raise ValueError(f"max_colors must be in [0, {MAX_DOMINANT_COLORS}], got {max_colors}")
    small = _resize_long_side(rgb, COLOR_LONG_SIDE_PX)
    levels = small >> (8 - LUT_BITS)
    names = _nearest_css_lut()[levels[..., 0], levels[..., 1], levels[..., 2]]
    if mask is not None:
        names = names[_resize_mask(mask, names.shape)]
    counts = np.bincount(names.ravel(), minlength=len(CSS_COLORS))
    total = int(counts.sum())
    if total == 0 or max_colors == 0:
        return []
    order = np.argsort(-counts, kind="stable")[:max_colors]
    palette = _palette_rgb()
    return [
        DominantColor(
            rgb=(int(palette[i, 0]), int(palette[i, 1]), int(palette[i, 2])),
            css_name=CSS_COLORS[i][0],
            simplified=CSS_COLORS[i][2],
            pixel_percent=100.0 * int(counts[i]) / total,
        )
        for i in order
        if counts[i] > 0 and 100.0 * int(counts[i]) / total >= min_percent
    ]


def _check_image(rgb: np.ndarray, mask: np.ndarray | None) -> None:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected (h, w, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
    if mask is not None and mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match image {rgb.shape[:2]}")


def _resize_long_side(rgb: np.ndarray, long_side_px: int) -> np.ndarray:
    """Area-averaged copy whose longest side is at most `long_side_px`; smaller images are not enlarged."""
    height, width = rgb.shape[:2]
    scale = long_side_px / max(height, width)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _resize_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if mask.shape == shape[:2]:
        return mask.astype(bool, copy=False)
    resized = cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return resized.astype(bool)


def _percentiles_uint8(values: np.ndarray, low: float, high: float) -> tuple[int, int]:
    """Two percentiles (the value at the lower rank) of uint8 values from their histogram: a fraction of a ms for
    640x480, where np.percentile takes 3.5 ms."""
    cumulative = np.cumsum(np.bincount(values.ravel(), minlength=256))
    ranks = np.array([low, high]) / 100.0 * (cumulative[-1] - 1)
    first, second = np.searchsorted(cumulative, ranks, side="right")
    return int(first), int(second)


@cache
def _palette_rgb() -> np.ndarray:
    """(139, 3) uint8 sRGB of the CSS table."""
    return np.array([[int(code[i : i + 2], 16) for i in (1, 3, 5)] for _, code, _ in CSS_COLORS], np.uint8)


@cache
def _nearest_css_lut() -> np.ndarray:
    """(32, 32, 32) uint8: index of the CSS colour nearest (ΔE76 in CIELAB) to the centre of each 5-bit cell.

    Built once (32,768 x 139 distances, ~20 ms); every image then costs one lookup a pixel.
    """
    levels = 1 << LUT_BITS
    step = 256 // levels
    centres = (np.arange(levels) * step + step // 2).astype(np.uint8)
    grid = np.stack(np.meshgrid(centres, centres, centres, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    grid_lab = _lab(grid).reshape(-1, 3)
    palette_lab = _lab(_palette_rgb().reshape(-1, 1, 3)).reshape(-1, 3)
    # |g - p|² = |g|² - 2 g·p + |p|²; |g|² is the same for every p, so it drops out of the argmin.
    distances = (palette_lab**2).sum(axis=1)[None, :] - 2.0 * grid_lab @ palette_lab.T
    return distances.argmin(axis=1).astype(np.uint8).reshape(levels, levels, levels)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (L 0–100) of sRGB uint8 pixels, D65, as OpenCV converts float input."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
