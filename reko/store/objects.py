"""Reading `S3Object` images: from `<data-dir>/s3/<bucket>/<name>` by default, or any S3-compatible endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from reko.errors import ImageTooLargeException, InvalidS3ObjectException

MAX_S3_OBJECT_BYTES = 15 * 1024 * 1024  # Rekognition's documented limit for images in S3


class ObjectReader(Protocol):
    def read(self, bucket: str, name: str, version: str | None) -> bytes: ...


def _too_large(size: int) -> ImageTooLargeException:
    return ImageTooLargeException(
        f"S3 object size {size} bytes exceeds the {MAX_S3_OBJECT_BYTES} byte limit for images in S3."
    )


class FolderBuckets:
    """Buckets as folders of the data directory: a bucket is `<root>/<bucket>/`, a key a relative path."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def read(self, bucket: str, name: str, version: str | None) -> bytes:
        path = (self.root / bucket / name).resolve()
        bucket_dir = (self.root / bucket).resolve()
        if bucket_dir.parent != self.root or not path.is_relative_to(bucket_dir) or not path.is_file():
            raise InvalidS3ObjectException(
                f"Unable to get object metadata from S3. Check object key, region and/or access permissions. "
                f"(bucket '{bucket}', key '{name}')"
            )
        if version is not None:
            raise InvalidS3ObjectException(
                f"Object versions are not kept in folder buckets; cannot read version '{version}' of '{name}'."
            )
        size = path.stat().st_size
        if size > MAX_S3_OBJECT_BYTES:
            raise _too_large(size)
        return path.read_bytes()


class EndpointBuckets:
    """Objects read with boto3 from an S3-compatible endpoint (MinIO, Ceph, AWS S3 itself)."""

    def __init__(self, endpoint_url: str) -> None:
        import boto3

        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def read(self, bucket: str, name: str, version: str | None) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        arguments = {"Bucket": bucket, "Key": name} | ({"VersionId": version} if version else {})
        try:
            answer = self.client.get_object(**arguments)
            size = int(answer.get("ContentLength", 0))
            if size > MAX_S3_OBJECT_BYTES:
                raise _too_large(size)
            return bytes(answer["Body"].read())
        except (ClientError, BotoCoreError) as error:
            raise InvalidS3ObjectException(f"Unable to get object from S3: {error}") from error
