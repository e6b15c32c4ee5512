"""What the console's bucket picker is offered: images only, in key order, a page at a time, from folder buckets
(links to folders not followed, hidden files left out) and from an S3 endpoint (botocore's Stubber as the endpoint)."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from reko.errors import InvalidS3ObjectException
from reko.store.objects import EndpointBuckets, FolderBuckets


@pytest.fixture
def buckets(tmp_path: Path) -> FolderBuckets:
    folder = tmp_path / "photos"
    for key in ["b.jpg", "a/z.PNG", "a/b/c.jpeg", "a.jpg", "notes.txt", ".a.jpg.1.tmp", "a/.hidden.png"]:
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(b"\xff\xd8\xff")
    os.symlink(folder / "a", folder / "loop")  # a link to a folder: not followed (no loops, no double listing)
    (tmp_path / "no bucket name").mkdir()
    (tmp_path / "stray.jpg").write_bytes(b"")
    return FolderBuckets(tmp_path)


def test_folder_buckets_list_images_in_key_order(buckets: FolderBuckets) -> None:
    assert buckets.buckets() == ["photos"]
    page = buckets.images("photos", None, 10)
    assert page.names == ["a/b/c.jpeg", "a/z.PNG", "a.jpg", "b.jpg"] and page.next_start_after is None
    assert page.sizes_bytes == [3, 3, 3, 3]


@pytest.mark.parametrize(
    ("start_after", "limit", "names", "next_after"),
    [
        (None, 2, ["a/b/c.jpeg", "a/z.PNG"], "a/z.PNG"),
        ("a/z.PNG", 2, ["a.jpg", "b.jpg"], None),
        ("a/b/c.jpeg", 1, ["a/z.PNG"], "a/z.PNG"),
        ("b.jpg", 5, [], None),
    ],
)
def test_folder_buckets_page_after_a_key(
    buckets: FolderBuckets, start_after: str | None, limit: int, names: list[str], next_after: str | None
) -> None:
    page = buckets.images("photos", start_after, limit)
    assert (page.names, page.next_start_after) == (names, next_after)


@pytest.mark.parametrize(("bucket", "start_after"), [("..", None), ("missing", None), ("photos", "../x")])
def test_bad_buckets_and_keys_are_refused(buckets: FolderBuckets, bucket: str, start_after: str | None) -> None:
    with pytest.raises(InvalidS3ObjectException):
        buckets.images(bucket, start_after, 10)


def test_an_endpoint_bucket_skips_what_is_not_an_image_across_listing_pages() -> None:
    reader = EndpointBuckets.__new__(EndpointBuckets)
    reader.client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(reader.client)
    stubber.add_response("list_buckets", {"Buckets": [{"Name": "zeta"}, {"Name": "alpha"}]})
    stubber.add_response("list_objects_v2", {"IsTruncated": True, "Contents": [
        {"Key": "a.txt", "Size": 1}, {"Key": "b.jpg", "Size": 2}]},
        {"Bucket": "alpha", "StartAfter": "", "MaxKeys": 1000})
    stubber.add_response("list_objects_v2", {"IsTruncated": False, "Contents": [
        {"Key": "c.png", "Size": 3}, {"Key": "d.png", "Size": 4}]},
        {"Bucket": "alpha", "StartAfter": "b.jpg", "MaxKeys": 1000})
    with stubber:
        assert reader.buckets() == ["alpha", "zeta"]
        page = reader.images("alpha", None, 2)
    assert (page.names, page.sizes_bytes, page.next_start_after) == (["b.jpg", "c.png"], [2, 3], "c.png")
