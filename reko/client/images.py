"""What a method accepts as an image, turned into the API's `Image` member (or into pixels, for drawing).

A path, bytes, a PIL image, a NumPy array or an `S3Location`. Files and bytes travel as they are: the service
decodes them, EXIF orientation included. Pixels (PIL, NumPy) are encoded as PNG, lossless, so the service sees
exactly the pixels the caller holds; when the PNG would pass the 5 MB limit on image bytes they go as JPEG
(quality 95) instead.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageOps

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Rekognition's limit on `Image.Bytes` (raw, before base64)
FALLBACK_JPEG_QUALITY = 95  # pixels too large for a 5 MB PNG: high enough that detections barely move


@dataclass(frozen=True)
class S3Location:
    """An image in an S3 bucket (or a Reko folder bucket), read by the service rather than sent.

    Args:
        bucket: the bucket name.
        name: the object key.
        version: an object version, when the bucket keeps versions.

    Example:
        >>> S3Location("photos", "team/alice.jpg").as_image_member()
        {'S3Object': {'Bucket': 'photos', 'Name': 'team/alice.jpg'}}
    """

    bucket: str
    name: str
    version: str | None = None

    def as_image_member(self) -> dict[str, Any]:
        s3_object = {"Bucket": self.bucket, "Name": self.name}
        if self.version is not None:
            s3_object["Version"] = self.version
        return {"S3Object": s3_object}


# What every method accepts as an image (a real union, so `typing.get_type_hints` resolves it at run time too).
ImageInput: TypeAlias = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | PILImage.Image | npt.NDArray[Any] | S3Location
)


def image_member(image: ImageInput) -> dict[str, Any]:
    """The API's `Image` member for any accepted input.

    Args:
        image: a file path, the file's bytes, a PIL image, an RGB(A) or grey uint8 array (H, W[, C]) or an
            `S3Location`.

    Returns:
        `{"Bytes": b"…"}` or `{"S3Object": {…}}`, as boto3 takes it.
    """
    if isinstance(image, S3Location):
        return image.as_image_member()
    if isinstance(image, str | os.PathLike):
        with open(image, "rb") as file:
            return {"Bytes": file.read()}
    if isinstance(image, bytes | bytearray | memoryview):
        return {"Bytes": bytes(image)}
    if isinstance(image, PILImage.Image):
        return {"Bytes": encode_pixels(image)}
    if isinstance(image, np.ndarray):
        return {"Bytes": encode_pixels(array_to_pil(image))}
    raise TypeError(f"an image is a path, bytes, a PIL image, a NumPy array or an S3Location, not {type(image)!r}")


def array_to_pil(pixels: npt.NDArray[Any]) -> PILImage.Image:
    """An (H, W) grey or (H, W, 3|4) RGB(A) uint8 array as a PIL image. OpenCV's BGR must be flipped first."""
    if pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be uint8 (0-255), not {pixels.dtype}")
    if pixels.ndim == 2 or pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        return PILImage.fromarray(np.ascontiguousarray(pixels))
    raise ValueError(f"pixels must be (H, W), (H, W, 3) or (H, W, 4), not {pixels.shape}")


def encode_pixels(image: PILImage.Image) -> bytes:
    """PNG bytes of the image's RGB (or grey) pixels; JPEG when the PNG would exceed `MAX_IMAGE_BYTES`."""
    pixels = image if image.mode in ("RGB", "L") else image.convert("RGB")
    buffer = io.BytesIO()
    pixels.save(buffer, "PNG")
    if buffer.tell() <= MAX_IMAGE_BYTES:
        return buffer.getvalue()
    buffer = io.BytesIO()
    pixels.save(buffer, "JPEG", quality=FALLBACK_JPEG_QUALITY)
    return buffer.getvalue()


def to_pil(image: ImageInput) -> PILImage.Image:
    """The image as RGB pixels as the service sees them, for drawing on: a JPEG's EXIF orientation is applied
    (Rekognition's boxes refer to the turned image), a PNG's never is."""
    if isinstance(image, S3Location):
        raise TypeError("draw needs the pixels: pass the file, bytes or image rather than its S3Location")
    if isinstance(image, PILImage.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray):
        return array_to_pil(image).convert("RGB")
    data = image_member(image)["Bytes"]
    with PILImage.open(io.BytesIO(data)) as opened:
        upright = ImageOps.exif_transpose(opened) if opened.format == "JPEG" else opened
        return upright.convert("RGB")
