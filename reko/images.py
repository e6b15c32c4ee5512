"""Image bytes → an RGB array, with Rekognition's format, size and orientation rules.

- JPEG and PNG only, recognised by their signature bytes, not by a name or a header the client sends.
- The pixel count is read from the header and checked *before* decoding, so a small file that would expand to
  gigabytes (a decompression bomb) is refused without allocating it.
- A JPEG's EXIF orientation is applied, and coordinates then refer to the corrected image; PNGs are never
  rotated. Rekognition documents `OrientationCorrection` as always null, so it is never returned.
"""

from __future__ import annotations

import io
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

Image.MAX_IMAGE_PIXELS = None  # our own check below runs first and raises the Rekognition error


@dataclass(frozen=True)
class DecodedImage:
    """A decoded image, orientation already corrected.

    Attributes:
        rgb: (H, W, 3) uint8 array.
        format: "JPEG" or "PNG".
    """

    rgb: np.ndarray
    format: str

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def sniff_format(data: bytes) -> str:
    if data.startswith(JPEG_SIGNATURE):
        return "JPEG"
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    raise InvalidImageFormatException("Request has unsupported image format (only JPEG and PNG are accepted).")


def decode_image(
    data: bytes,
    min_side_px: int = MIN_IMAGE_SIDE_PX,
    max_side_px: int = MAX_IMAGE_SIDE_PX,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> DecodedImage:
    """Decode JPEG/PNG bytes into RGB, refusing what Rekognition refuses."""
    image_format = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encoded = Image.open(io.BytesIO(data), formats=[image_format])
            width, height = encoded.size
            _check_dimensions(width, height, min_side_px, max_side_px, max_pixels)
            encoded.load()
            if image_format == "JPEG":
                ImageOps.exif_transpose(encoded, in_place=True)
            picture = encoded if encoded.mode == "RGB" else encoded.convert("RGB")  # skip a copy when we can
            rgb = np.asarray(picture)
    except (ImageTooLargeException, InvalidParameterException):
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise InvalidImageFormatException(
            f"Request has invalid image format: the {image_format} data is corrupt or truncated."
        ) from error
    return DecodedImage(rgb=np.ascontiguousarray(rgb), format=image_format)


def _check_dimensions(width: int, height: int, min_side_px: int, max_side_px: int, max_pixels: int) -> None:
    if width * height > max_pixels or max(width, height) > max_side_px:
        raise ImageTooLargeException(
            f"Image dimensions {width}x{height} exceed the limit ({max_side_px} px a side, {max_pixels} pixels)."
        )
    if min(width, height) < min_side_px:
        raise InvalidParameterException(
            f"Image dimensions {width}x{height} are too small: each side must be at least {min_side_px} pixels."
        )
