"""Reading `S3Object` images: from `<data-dir>/s3/<bucket>/<name>` by default, or any S3-compatible endpoint.

Whatever a client sends as bucket or key, the answer is the object's bytes or a Rekognition error, never a
crash: a name no file can have (NUL, lone surrogates, a segment over 255 bytes, `..`), a symlink loop or a link
leaving its bucket, a directory, a FIFO, a permission problem all answer `InvalidS3ObjectException`, as
Rekognition does for an object it cannot read. At most `MAX_S3_OBJECT_BYTES` + 1 bytes are ever read.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Protocol

from reko.errors import ImageTooLargeException, InvalidS3ObjectException
from reko.store.object_listing import (
    ObjectPage,
    endpoint_buckets,
    endpoint_images,
    folder_buckets,
    folder_images,
)

MAX_S3_OBJECT_BYTES = 15 * 1024 * 1024  # Rekognition's documented limit for images in S3
MAX_KEY_BYTES = 1024  # S3's limit on a key, and the model's limit on S3Object.Name (in characters)
MAX_SEGMENT_BYTES = 255  # NAME_MAX of every common file system
READ_CHUNK_BYTES = 1024 * 1024
# Rekognition's model allows `[0-9A-Za-z\.\-_]*`, 3-255 characters; a folder bucket must also be one plain
# directory entry, so it starts with a letter or digit ("..." would otherwise be a valid name).
FOLDER_BUCKET_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-_]{2,254}")
NOT_READABLE = (
    "Unable to get object metadata from S3. Check object key, region and/or access permissions."
)


class NotARegularFile(OSError):
    """The key names a folder, FIFO or device of a folder bucket."""


class ObjectReader(Protocol):
    def read(self, bucket: str, name: str, version: str | None) -> bytes: ...

    def write(self, bucket: str, name: str, data: bytes) -> None:
        """Store an object (Custom Labels' evaluation files); InvalidS3ObjectException when it cannot."""
        ...

    def buckets(self) -> list[str]:
        """The buckets there are to read from (for the console's picker)."""
        ...

    def images(self, bucket: str, start_after: str | None, limit: int) -> ObjectPage:
        """A page of a bucket's JPEG and PNG objects after `start_after`; InvalidS3ObjectException for a bad bucket."""
        ...


def _too_large(size: int) -> ImageTooLargeException:
    return ImageTooLargeException(
        f"S3 object size {size} bytes exceeds the {MAX_S3_OBJECT_BYTES} byte limit for images in S3."
    )


def _shown(text: str, limit: int = 120) -> str:
    """`text` safe to put in a message: control characters and lone surrogates escaped, long names cut."""
    escaped = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"


def _invalid_name(kind: str, text: str, reason: str) -> InvalidS3ObjectException:
    return InvalidS3ObjectException(f"Invalid S3 object {kind} '{_shown(text)}': {reason}.")


def _utf8(kind: str, text: str) -> bytes:
    """S3 names are UTF-8; a lone surrogate (which a JSON decoder lets through) cannot be one."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid_name(kind, text, "it is not valid UTF-8 (lone surrogate)") from None


def key_segments(name: str) -> list[str]:
    """The path segments a key names inside a folder bucket, or `InvalidS3ObjectException` saying why not."""
    encoded = _utf8("key", name)
    if not name or len(encoded) > MAX_KEY_BYTES:
        raise _invalid_name("key", name, f"a key has 1 to {MAX_KEY_BYTES} bytes of UTF-8")
    if "\x00" in name:
        raise _invalid_name("key", name, "a key in a folder bucket cannot contain NUL")
    segments = name.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise _invalid_name("key", name, "a key in a folder bucket has no empty, '.' or '..' path segments")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise _invalid_name("key", name, f"a path segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return segments


def _read_bounded(descriptor: int, size_hint: int) -> bytes:
    """At most `MAX_S3_OBJECT_BYTES` from an open file; one more byte means the file is too large."""
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_S3_OBJECT_BYTES:
        chunk = os.read(descriptor, min(READ_CHUNK_BYTES, MAX_S3_OBJECT_BYTES + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise _too_large(max(total, size_hint))


class FolderBuckets:
    """Buckets as folders of the data directory: a bucket is `<root>/<bucket>/`, a key a relative path.

    A bucket folder may itself be a symlink placed there by whoever runs the server; inside it, links are
    followed only while they stay within the bucket's real folder.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def read(self, bucket: str, name: str, version: str | None) -> bytes:
        if not FOLDER_BUCKET_PATTERN.fullmatch(bucket):
            raise _invalid_name(
                "bucket", bucket, "a bucket has 3-255 letters, digits, '.', '-' or '_' and starts with a letter "
                "or digit",
            )
        segments = key_segments(name)
        if version is not None:
            raise InvalidS3ObjectException(
                f"Object versions are not kept in folder buckets; cannot read version '{_shown(version)}' of "
                f"'{_shown(name)}'."
            )
        where = f"bucket '{bucket}', key '{_shown(name)}'"
        try:
            bucket_dir = (self.root / bucket).resolve(strict=True)
            path = bucket_dir.joinpath(*segments).resolve(strict=True)
            if not path.is_relative_to(bucket_dir):
                raise InvalidS3ObjectException(f"{NOT_READABLE} ({where}: a link leads out of the bucket)")
            return self._read_file(path)
        except (OSError, RuntimeError, ValueError) as error:  # RuntimeError: Python 3.11's symlink loop
            if isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG:
                raise _invalid_name("key", name, "the path it names is too long for the file system") from error
            if isinstance(error, NotARegularFile):
                raise InvalidS3ObjectException(f"{NOT_READABLE} ({where}: {error})") from error
            raise InvalidS3ObjectException(f"{NOT_READABLE} ({where})") from error

    def write(self, bucket: str, name: str, data: bytes) -> None:
        """Write `<root>/<bucket>/<key>` whole (a temporary file renamed over it), making the folders it needs."""
        if not FOLDER_BUCKET_PATTERN.fullmatch(bucket):
            raise _invalid_name("bucket", bucket, "a bucket has 3-255 letters, digits, '.', '-' or '_'")
        path = self.root.joinpath(bucket, *key_segments(name))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.parent.resolve().is_relative_to((self.root / bucket).resolve()):
                raise InvalidS3ObjectException(f"Cannot write '{_shown(name)}': a link leads out of the bucket")
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, path)
        except OSError as error:
            raise InvalidS3ObjectException(f"Cannot write bucket '{bucket}', key '{_shown(name)}': {error}") from None

    def buckets(self) -> list[str]:
        return folder_buckets(self.root, FOLDER_BUCKET_PATTERN)

    def images(self, bucket: str, start_after: str | None, limit: int) -> ObjectPage:
        if not FOLDER_BUCKET_PATTERN.fullmatch(bucket):
            raise _invalid_name("bucket", bucket, "a bucket has 3-255 letters, digits, '.', '-' or '_'")
        if start_after is not None:
            key_segments(start_after)
        return folder_images(self.root / bucket, start_after, limit)

    @staticmethod
    def _read_file(path: Path) -> bytes:
        """Bytes of a regular file; O_NONBLOCK so a FIFO cannot hang the request, O_NOFOLLOW so a link put
        in place after `resolve` is not followed."""
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise NotARegularFile("the key names a folder or a device, not a file")
            if status.st_size > MAX_S3_OBJECT_BYTES:
                raise _too_large(status.st_size)
            return _read_bounded(descriptor, status.st_size)
        finally:
            os.close(descriptor)


class EndpointBuckets:
    """Objects read with boto3 from an S3-compatible endpoint (MinIO, Ceph, AWS S3 itself)."""

    def __init__(self, endpoint_url: str) -> None:
        import boto3

        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def read(self, bucket: str, name: str, version: str | None) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        for kind, text in (("bucket", bucket), ("key", name), ("version", version or "")):
            _utf8(kind, text)
        arguments = {"Bucket": bucket, "Key": name} | ({"VersionId": version} if version else {})
        try:
            answer = self.client.get_object(**arguments)
            size = int(answer.get("ContentLength", 0))
            if size > MAX_S3_OBJECT_BYTES:
                raise _too_large(size)
            with answer["Body"] as body:
                data = bytes(body.read(MAX_S3_OBJECT_BYTES + 1))  # a wrong ContentLength cannot make it read more
            if len(data) > MAX_S3_OBJECT_BYTES:
                raise _too_large(len(data))
            return data
        except (ClientError, BotoCoreError, OSError, ValueError) as error:
            raise InvalidS3ObjectException(f"Unable to get object from S3: {_shown(str(error), 300)}") from error

    def write(self, bucket: str, name: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=bucket, Key=name, Body=data)
        except (ClientError, BotoCoreError, OSError, ValueError) as error:
            raise InvalidS3ObjectException(f"Unable to put object to S3: {_shown(str(error), 300)}") from error

    def buckets(self) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return endpoint_buckets(self.client)
        except (ClientError, BotoCoreError, OSError, ValueError) as error:
            raise InvalidS3ObjectException(f"Unable to list buckets: {_shown(str(error), 300)}") from error

    def images(self, bucket: str, start_after: str | None, limit: int) -> ObjectPage:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return endpoint_images(self.client, bucket, start_after, limit)
        except (ClientError, BotoCoreError, OSError, ValueError) as error:
            message = f"Unable to list bucket '{_shown(bucket)}': {_shown(str(error), 300)}"
            raise InvalidS3ObjectException(message) from error
