"""The console's bucket picker over plain HTTP: only images listed, folder by folder, a page at a time; an image shown
by its signature; nothing signed out; and an operation on the chosen object sent as `S3Object`."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from reko.server.console import MAX_LISTED_OBJECTS
from tests.conftest import TEST_IMAGES, RunningServer, make_client
from tests.server.test_console import console, sign_in

BUCKET = "console-listing"


@pytest.fixture(scope="module")
def bucket(server: RunningServer) -> Path:
    """A folder bucket: two real photos (one in a sub-folder), a text file, a hidden file and a fake `.jpg`."""
    folder = server.data_dir / "s3" / BUCKET
    (folder / "people").mkdir(parents=True, exist_ok=True)
    shutil.copy(TEST_IMAGES / "astronaut.png", folder / "people" / "astronaut.png")
    shutil.copy(TEST_IMAGES / "coffee.png", folder / "coffee.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".coffee.png.123.tmp").write_bytes(b"half written")
    (folder / "fake.jpg").write_text("text under an image's name")
    return folder


@pytest.fixture
def client(server: RunningServer) -> httpx.Client:
    signed = console(server)
    assert sign_in(signed).status_code == 200
    return signed


def test_buckets_and_their_images_are_listed_in_order(bucket: Path, client: httpx.Client) -> None:
    assert BUCKET in client.get("/console/api/buckets").json()["Buckets"]
    listing = client.get(f"/console/api/buckets/{BUCKET}/images").json()
    assert [item["Name"] for item in listing["Objects"]] == ["coffee.png", "fake.jpg", "people/astronaut.png"]
    assert listing["Objects"][0]["Size"] == (TEST_IMAGES / "coffee.png").stat().st_size
    assert "NextStartAfter" not in listing
    after = client.get(f"/console/api/buckets/{BUCKET}/images", params={"StartAfter": "fake.jpg"}).json()
    assert [item["Name"] for item in after["Objects"]] == ["people/astronaut.png"]


def test_a_large_bucket_comes_a_page_at_a_time(server: RunningServer, client: httpx.Client) -> None:
    folder = server.data_dir / "s3" / "console-many"
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(MAX_LISTED_OBJECTS + 5):
        (folder / f"{number:04d}.jpg").write_bytes(b"\xff\xd8\xff")
    first = client.get("/console/api/buckets/console-many/images").json()
    assert len(first["Objects"]) == MAX_LISTED_OBJECTS
    assert first["NextStartAfter"] == f"{MAX_LISTED_OBJECTS - 1:04d}.jpg"
    rest = client.get("/console/api/buckets/console-many/images", params={"StartAfter": first["NextStartAfter"]})
    assert len(rest.json()["Objects"]) == 5 and "NextStartAfter" not in rest.json()


def test_an_image_is_served_by_its_signature_and_anything_else_is_refused(bucket: Path, client: httpx.Client) -> None:
    image = client.get(f"/console/api/buckets/{BUCKET}/image", params={"Name": "people/astronaut.png"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content == (TEST_IMAGES / "astronaut.png").read_bytes()
    assert image.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in image.headers["content-security-policy"]
    fake = client.get(f"/console/api/buckets/{BUCKET}/image", params={"Name": "fake.jpg"})
    assert fake.status_code == 400 and fake.json()["__type"] == "InvalidImageFormatException"
    for name in ["../../reko.sqlite3", "missing.png", ""]:
        outside = client.get(f"/console/api/buckets/{BUCKET}/image", params={"Name": name})
        assert outside.status_code == 400 and outside.json()["__type"] == "InvalidS3ObjectException"
    missing = client.get("/console/api/buckets/no-such-bucket/images")
    assert missing.status_code == 400 and missing.json()["__type"] == "InvalidS3ObjectException"


def test_signed_out_no_bucket_is_listed_or_shown(server: RunningServer, bucket: Path) -> None:
    client = console(server)
    for path in ["/console/api/buckets", f"/console/api/buckets/{BUCKET}/images",
                 f"/console/api/buckets/{BUCKET}/image?Name=coffee.png"]:
        answer = client.get(path)
        assert answer.status_code == 403 and answer.json()["__type"] == "MissingAuthenticationTokenException"


def test_an_operation_reads_the_chosen_object_where_it_lies(bucket: Path, client: httpx.Client) -> None:
    token = client.get("/console/api/session").json()["csrfToken"]
    answer = client.post("/console/api/DetectFaces", headers={"x-reko-csrf": token},
                         json={"Image": {"S3Object": {"Bucket": BUCKET, "Name": "people/astronaut.png"}}})
    assert answer.status_code == 200 and len(answer.json()["FaceDetails"]) == 1


def test_an_evaluation_is_read_only_for_a_version_of_the_callers_account(
    server: RunningServer, client: httpx.Client
) -> None:
    project = make_client(server.url).create_project(ProjectName="console-evaluation")["ProjectArn"]
    for params, code in [
        ({"ProjectArn": project, "VersionName": "v1"}, "ResourceNotFoundException"),  # no such version
        ({"ProjectArn": project.replace(":000000000000:", ":111111111111:"), "VersionName": "v1"},
         "ResourceNotFoundException"),  # another account's ARN
    ]:
        answer = client.get("/console/api/evaluation", params=params)
        assert answer.status_code == 400 and answer.json()["__type"] == code, answer.text
    assert console(server).get("/console/api/evaluation", params={"ProjectArn": project}).status_code == 403
