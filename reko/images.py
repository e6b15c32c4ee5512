"""Image bytes → an RGB array, with Rekognition's format, size and orientation rules.

- JPEG and PNG only, recognised by their signature bytes, not by a name or a header the client sends.
- The pixel count is read from the header and checked *before* decoding, so a small file that would expand to
  gigabytes (a decompression bomb) is refused without allocating it.
- A JPEG's EXIF orientation is applied, and coordinates then refer to the corrected image; PNGs are never
  rotated. Rekognition documents `OrientationCorrection` as always null, so it is never returned.
- An image far larger than any model reads is decoded at 1/2, 1/4 or 1/8 scale (see `reduction_factor`):
  a 50 MP JPEG costs ~0.5 s and +650 MiB decoded whole, a fraction of that through libjpeg's DCT scaling.
  Rekognition answers in ratios of the image's width and height, which a uniformly reduced image keeps.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from reko.errors import ImageTooLargeException, InvalidImageFormatException, InvalidParameterException

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_IMAGE_SIDE_PX = 80
MAX_IMAGE_SIDE_PX = 10_000
MAX_IMAGE_PIXELS = 50_000_000  # 150 MB of RGB; far above any real 5 MB photo, far below a bomb
# The most pixels any model reads of a whole image: the face detector's largest pass
# (`reko.vision.faces.detector.DEFAULT_MAX_PASS_PIXELS`, its small-face pass on a large photo; a test keeps
# the two equal). Per-face models read crops of at most 192x192. A decoded image never goes below this.
MODEL_MAX_PIXELS = 1_600_000
REDUCTION_FACTORS = (8, 4, 2)  # the scales libjpeg's IDCT offers (1/8 … 1/2)
ORIENTATION_TAG = 0x0112
SWAPPED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that turn the picture by 90 degrees

Image.MAX_IMAGE_PIXELS = None  # our own check below runs first and raises the Rekognition error


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# A large decode is pure CPU and up to ~200 MB while it lasts (a PNG cannot be decoded at reduced scale):
# more at once than there are cores only adds memory, never throughput.
_large_decodes = threading.BoundedSemaphore(_usable_cores())


@dataclass(frozen=True)
class DecodedImage:
    """A decoded image, orientation already corrected, possibly at reduced scale.

    Pixel coordinates found on `rgb` turn into Rekognition's ratios by dividing by `width` and `height` (the
    array's size): those ratios are the full image's, because the reduction is uniform.

    Attributes:
        rgb: (H, W, 3) uint8 array; 1/`scale` times smaller than the encoded image when reduced.
        format: "JPEG" or "PNG".
        original_width: the encoded image's width in pixels, after orientation.
        original_height: the encoded image's height in pixels, after orientation.
    """

    rgb: np.ndarray
    format: str
    original_width: int
    original_height: int

    @property
    def width(self) -> int:
        """Width of `rgb` in pixels: the denominator of every x ratio."""
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        """Height of `rgb` in pixels: the denominator of every y ratio."""
        return int(self.rgb.shape[0])

    @property
    def scale(self) -> float:
        """Decoded width over original width: 1.0, or about 1/2, 1/4, 1/8 for a reduced decode."""
        return self.width / self.original_width


def sniff_format(data: bytes) -> str:
    if data.startswith(JPEG_SIGNATURE):
        return "JPEG"
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    raise InvalidImageFormatException("Request has unsupported image format (only JPEG and PNG are accepted).")


def reduction_factor(width: int, height: int, min_pixels: int | None = MODEL_MAX_PIXELS) -> int:
    """The largest of 8, 4, 2 that keeps at least `min_pixels` decoded, or 1 for images not worth reducing.

    Even 1/2 quarters the pixels, so only images from 4x the floor up (6.4 MP with the detector's 1.6 MP) are
    reduced: every photo in ../shared/data (WIDER, LFW, AFW, COCO, all under 1 MP) decodes exactly as before,
    so small-face recall measured there cannot change. A 12 MP photo decodes at 1/2 (3 MP), a 50 MP one at
    1/4 (3.1 MP); the detector's enlarged pass resamples either to 1.6 MP anyway.

    Args:
        width, height: the encoded image's size in pixels.
        min_pixels: the fewest pixels the decoded image may have; None never reduces.
    """
    if min_pixels is None:
        return 1
    for factor in REDUCTION_FACTORS:
        if -(-width // factor) * -(-height // factor) >= min_pixels:
            return factor
    return 1


def decode_image(
    data: bytes,
    min_side_px: int = MIN_IMAGE_SIDE_PX,
    max_side_px: int = MAX_IMAGE_SIDE_PX,
    max_pixels: int = MAX_IMAGE_PIXELS,
    min_decoded_pixels: int | None = MODEL_MAX_PIXELS,
) -> DecodedImage:
    """Decode JPEG/PNG bytes into RGB, refusing what Rekognition refuses.

    Args:
        data: the encoded image.
        min_side_px, max_side_px, max_pixels: Rekognition's size limits, checked on the header.
        min_decoded_pixels: an image is decoded at 1/2, 1/4 or 1/8 scale when that keeps at least this many
            pixels (see `reduction_factor`); None decodes at full size.
    """
    image_format = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encoded = Image.open(io.BytesIO(data), formats=[image_format])
            width, height = encoded.size
            _check_dimensions(width, height, min_side_px, max_side_px, max_pixels)
            orientation = _orientation(encoded) if image_format == "JPEG" else 1
            factor = reduction_factor(width, height, min_decoded_pixels)
            if factor == 1:
                rgb = _decode_rgb(encoded, factor)
            else:
                with _large_decodes:
                    rgb = _decode_rgb(encoded, factor)
    except (ImageTooLargeException, InvalidParameterException):
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise InvalidImageFormatException(
            f"Request has invalid image format: the {image_format} data is corrupt or truncated."
        ) from error
    if orientation in SWAPPED_ORIENTATIONS:
        width, height = height, width
    return DecodedImage(
        rgb=np.ascontiguousarray(rgb), format=image_format, original_width=width, original_height=height
    )


def _decode_rgb(encoded: Image.Image, factor: int) -> np.ndarray:
    """Pixels of an opened image reduced `factor` times (sides rounded up), EXIF-oriented, as (H, W, 3) RGB."""
    reduced_pixels = -(-encoded.width // factor) * -(-encoded.height // factor)
    if factor > 1 and encoded.format == "JPEG":
        # libjpeg's DCT scaling takes the largest 1/s whose result is at least this big: 1/factor here.
        encoded.draft(None, (encoded.width // factor, encoded.height // factor))
    encoded.load()
    if encoded.format == "JPEG":
        ImageOps.exif_transpose(encoded, in_place=True)  # after `draft`: turns the small image, not the large
    picture = encoded
    if picture.width * picture.height > reduced_pixels:  # a PNG, or a JPEG libjpeg would not scale
        if picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")  # `reduce` takes neither palette nor 1-bit nor 16-bit images
        picture = picture.reduce(factor)
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    return np.asarray(picture)


def _orientation(encoded: Image.Image) -> int:
    """The EXIF orientation (1-8) in a JPEG's header; 1 when absent or unreadable."""
    value = encoded.getexif().get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) else 1


def _check_dimensions(width: int, height: int, min_side_px: int, max_side_px: int, max_pixels: int) -> None:
    if width * height > max_pixels or max(width, height) > max_side_px:
        raise ImageTooLargeException(
            f"Image dimensions {width}x{height} exceed the limit ({max_side_px} px a side, {max_pixels} pixels)."
        )
    if min(width, height) < min_side_px:
        raise InvalidParameterException(
            f"Image dimensions {width}x{height} are too small: each side must be at least {min_side_px} pixels."
        )
