"""Image decoding rules as pure functions: every JPEG/PNG flavour decodes to RGB; orientation only for JPEG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from reko.errors import ImageTooLargeException, InvalidImageFormatException, InvalidParameterException
from reko.images import decode_image


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


GRADIENT = Image.fromarray(np.tile(np.arange(120, dtype=np.uint8), (90, 1)))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("grey jpeg", encoded(GRADIENT, "JPEG")),
        ("cmyk jpeg", encoded(GRADIENT.convert("CMYK"), "JPEG")),
        ("rgba png", encoded(GRADIENT.convert("RGBA"), "PNG")),
        ("palette png", encoded(GRADIENT.convert("P"), "PNG")),
        ("16-bit png", encoded(GRADIENT.convert("I;16"), "PNG")),
        ("1-bit png", encoded(GRADIENT.convert("1"), "PNG")),
    ],
)
def test_every_flavour_decodes_to_rgb(name: str, data: bytes) -> None:
    image = decode_image(data)
    assert image.rgb.shape == (90, 120, 3) and image.rgb.dtype == np.uint8


def test_png_orientation_is_never_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    image = decode_image(encoded(GRADIENT.convert("RGB"), "PNG", exif=exif.tobytes()))
    assert (image.width, image.height) == (120, 90)


def test_jpeg_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    image = decode_image(encoded(GRADIENT.convert("RGB"), "JPEG", exif=exif.tobytes()))
    assert (image.width, image.height) == (90, 120)


def test_limits_are_parameters() -> None:
    data = encoded(GRADIENT, "PNG")
    with pytest.raises(InvalidParameterException):
        decode_image(data, min_side_px=100)
    with pytest.raises(ImageTooLargeException):
        decode_image(data, max_side_px=100)
    with pytest.raises(ImageTooLargeException):
        decode_image(data, max_pixels=90 * 119)


def test_webp_is_not_accepted() -> None:
    with pytest.raises(InvalidImageFormatException):
        decode_image(encoded(GRADIENT.convert("RGB"), "WEBP"))
