"""The `Image` member: bytes or an S3 object from the store, never both; any bucket or key a client sends
answers bytes or a Rekognition error, never a crash."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from reko.errors import ImageTooLargeException, InvalidParameterException, InvalidS3ObjectException
from reko.operations.common.context import Caller, OperationContext
from reko.operations.common.images import image_bytes
from reko.store import Store
from reko.store.objects import MAX_S3_OBJECT_BYTES, EndpointBuckets, FolderBuckets
from tests.conftest import shared_face_pipeline


@pytest.fixture
def context(tmp_path: Path) -> OperationContext:
    store = Store(tmp_path / "reko.sqlite3", tmp_path / "s3")
    caller = Caller(request_id="test", account_id="000000000000", region="us-east-1")
    return OperationContext(caller=caller, store=store, face_pipeline=shared_face_pipeline)


def test_bytes_and_s3_object_together_are_refused(context: OperationContext) -> None:
    with pytest.raises(InvalidParameterException):
        image_bytes({"Bytes": b"x", "S3Object": {"Bucket": "b", "Name": "n"}}, context)


def test_an_s3_object_is_read_from_its_folder_bucket(context: OperationContext, tmp_path: Path) -> None:
    (tmp_path / "s3" / "photos").mkdir(parents=True)
    (tmp_path / "s3" / "photos" / "a.jpg").write_bytes(b"\xff\xd8\xffdata")
    assert image_bytes({"S3Object": {"Bucket": "photos", "Name": "a.jpg"}}, context) == b"\xff\xd8\xffdata"
    with pytest.raises(InvalidS3ObjectException):
        image_bytes({"S3Object": {"Bucket": "photos", "Name": "missing.jpg"}}, context)


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    """A folder bucket `photos` with one image, a folder, a FIFO, a symlink loop and links in and out."""
    folder = tmp_path / "s3" / "photos"
    (folder / "people").mkdir(parents=True)
    (folder / "people" / "a.jpg").write_bytes(b"\xff\xd8\xffdata")
    (tmp_path / "outside.jpg").write_bytes(b"\xff\xd8\xffsecret")
    os.mkfifo(folder / "fifo")
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")
    (folder / "inside.jpg").symlink_to("people/a.jpg")
    (folder / "outside.jpg").symlink_to(tmp_path / "outside.jpg")
    return folder


BAD_NAMES = [
    ("nul", "people/a.jpg\x00.png", "cannot contain NUL"),
    ("lone surrogate", "\ud800.jpg", "not valid UTF-8"),
    ("escaped byte surrogate", "\udcff.jpg", "not valid UTF-8"),
    ("segment over 255 bytes", "x" * 300 + ".jpg", "longer than 255 bytes"),
    ("multi-byte segment over 255 bytes", "é" * 128, "longer than 255 bytes"),
    ("key over 1024 bytes", "/".join(["x" * 200] * 6), "1 to 1024 bytes"),
    ("parent escape", "../outside.jpg", "'..'"),
    ("absolute", "/etc/passwd", "empty, '.' or '..'"),
    ("empty", "", "1 to 1024 bytes"),
    ("symlink loop", "loop1", "Unable to get object metadata"),
    ("through a symlink loop", "loop1/a.jpg", "Unable to get object metadata"),
    ("symlink out of the bucket", "outside.jpg", "a link leads out of the bucket"),
    ("folder", "people", "names a folder or a device"),
    ("fifo", "fifo", "names a folder or a device"),
    ("missing", "people/b.jpg", "Unable to get object metadata"),
]


@pytest.mark.parametrize(("case", "name", "message"), BAD_NAMES, ids=[case[0] for case in BAD_NAMES])
def test_a_key_that_names_no_file_is_invalid_s3_object(bucket: Path, case: str, name: str, message: str) -> None:
    with pytest.raises(InvalidS3ObjectException, match=re.escape(message)):
        FolderBuckets(bucket.parent).read("photos", name, None)


@pytest.mark.parametrize("name", ["..", "...", "ph", "photos/people", "a" * 256, "bad\x00bucket", "\ud800ab"])
def test_a_bucket_that_names_no_folder_is_invalid_s3_object(bucket: Path, name: str) -> None:
    with pytest.raises(InvalidS3ObjectException, match="Invalid S3 object bucket"):
        FolderBuckets(bucket.parent).read(name, "a.jpg", None)


def test_links_that_stay_inside_the_bucket_are_followed(bucket: Path) -> None:
    assert FolderBuckets(bucket.parent).read("photos", "inside.jpg", None) == b"\xff\xd8\xffdata"


def test_a_version_is_refused_by_folder_buckets(bucket: Path) -> None:
    with pytest.raises(InvalidS3ObjectException, match="versions are not kept"):
        FolderBuckets(bucket.parent).read("photos", "people/a.jpg", "3HL4kqtJvjVBH40Nrjfkd")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_invalid_s3_object(bucket: Path) -> None:
    (bucket / "people" / "a.jpg").chmod(0)
    with pytest.raises(InvalidS3ObjectException, match="Unable to get object metadata"):
        FolderBuckets(bucket.parent).read("photos", "people/a.jpg", None)


def test_an_object_over_15_mib_is_refused_without_reading_it(bucket: Path) -> None:
    with (bucket / "huge.jpg").open("wb") as sparse:  # no disk blocks: the size alone must refuse it
        sparse.truncate(MAX_S3_OBJECT_BYTES + 1)
    with pytest.raises(ImageTooLargeException, match="exceeds the 15728640 byte limit"):
        FolderBuckets(bucket.parent).read("photos", "huge.jpg", None)
    (bucket / "limit.jpg").write_bytes(b"\xff" * MAX_S3_OBJECT_BYTES)
    assert len(FolderBuckets(bucket.parent).read("photos", "limit.jpg", None)) == MAX_S3_OBJECT_BYTES


def endpoint_buckets(body: bytes, content_length: int) -> tuple[EndpointBuckets, Stubber]:
    """`EndpointBuckets` on a stubbed S3 client answering one GetObject with `body`."""
    reader = EndpointBuckets.__new__(EndpointBuckets)
    reader.client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stubber = Stubber(reader.client)
    answer = {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": content_length}
    stubber.add_response("get_object", answer)
    return reader, stubber


def test_an_endpoint_object_is_read_but_never_past_the_limit() -> None:
    reader, stubber = endpoint_buckets(b"\xff\xd8\xffdata", 7)
    with stubber:
        assert reader.read("photos", "a.jpg", None) == b"\xff\xd8\xffdata"
    reader, stubber = endpoint_buckets(b"\xff" * (MAX_S3_OBJECT_BYTES + 10), 7)  # a store that lies about size
    with stubber, pytest.raises(ImageTooLargeException):
        reader.read("photos", "a.jpg", None)


def test_an_endpoint_key_that_is_not_utf8_is_refused_before_any_request() -> None:
    reader, stubber = endpoint_buckets(b"", 0)
    with stubber, pytest.raises(InvalidS3ObjectException, match="not valid UTF-8"):
        reader.read("photos", "\ud800", None)
