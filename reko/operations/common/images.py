"""The `Image` request member → a decoded image: bytes from the request or from the store's buckets."""

from __future__ import annotations

from typing import Any

from reko.errors import InvalidParameterException
from reko.images import DecodedImage, decode_image
from reko.operations.common.context import OperationContext


def image_bytes(image: dict[str, Any], context: OperationContext) -> bytes:
    """The raw bytes of a validated `Image` member."""
    if "Bytes" in image and "S3Object" in image:
        raise InvalidParameterException("Image must specify either Bytes or S3Object, not both.")
    if "Bytes" in image:
        return bytes(image["Bytes"])
    s3_object = image.get("S3Object")
    if not s3_object or "Bucket" not in s3_object or "Name" not in s3_object:
        raise InvalidParameterException("Image must specify Bytes or an S3Object with Bucket and Name.")
    return context.store.objects.read(s3_object["Bucket"], s3_object["Name"], s3_object.get("Version"))


def load_image(image: dict[str, Any], context: OperationContext, **limits: int) -> DecodedImage:
    """`Image` request member → decoded image (see `reko.images.decode_image` for the limits)."""
    return decode_image(image_bytes(image, context), **limits)
