"""The `Image` member: bytes or an S3 object from the store, never both."""

from __future__ import annotations

from pathlib import Path

import pytest

from reko.errors import InvalidParameterException, InvalidS3ObjectException
from reko.operations.common.context import Caller, OperationContext
from reko.operations.common.images import image_bytes
from reko.store import Store
from tests.conftest import shared_face_pipeline


@pytest.fixture
def context(tmp_path: Path) -> OperationContext:
    store = Store(tmp_path / "reko.sqlite3", tmp_path / "s3")
    caller = Caller(request_id="test", account_id="000000000000", region="us-east-1")
    return OperationContext(caller=caller, store=store, faces=shared_face_pipeline())


def test_bytes_and_s3_object_together_are_refused(context: OperationContext) -> None:
    with pytest.raises(InvalidParameterException):
        image_bytes({"Bytes": b"x", "S3Object": {"Bucket": "b", "Name": "n"}}, context)


def test_an_s3_object_is_read_from_its_folder_bucket(context: OperationContext, tmp_path: Path) -> None:
    (tmp_path / "s3" / "photos").mkdir(parents=True)
    (tmp_path / "s3" / "photos" / "a.jpg").write_bytes(b"\xff\xd8\xffdata")
    assert image_bytes({"S3Object": {"Bucket": "photos", "Name": "a.jpg"}}, context) == b"\xff\xd8\xffdata"
    with pytest.raises(InvalidS3ObjectException):
        image_bytes({"S3Object": {"Bucket": "photos", "Name": "missing.jpg"}}, context)
