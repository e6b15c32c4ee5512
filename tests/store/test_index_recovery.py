"""kill -9 around the embedded backend's search index (issue 7): after writes, and right after a start-up build
began, a restart never brings back a deleted face nor hides an acknowledged one.

The server runs with a tiny `--exact-search-max-faces`, so a few dozen faces take the quantized scan's path: the
first search after a start loads the collection from the table and builds the scan on a background thread. A scan
of this size builds in milliseconds, so the kills fall right after a build began (they cannot be aimed inside it);
what is checked is the state after them.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.conftest import RunningServer, make_client, start_server, stop_server
from tests.store.test_crash import SEARCH_MAX_FACES, three_faces_jpeg

COLLECTION_ID = "recovery"
EXACT_SEARCH_MAX_FACES = 20
BUILD_WAIT_S = 60.0


def serve(data_dir: Path) -> RunningServer:
    return start_server(data_dir, "--exact-search-max-faces", str(EXACT_SEARCH_MAX_FACES))


def all_face_ids(server: RunningServer, image: bytes) -> set[str]:
    """Every face SearchFacesByImage finds (the image matches every stored face: the whole collection)."""
    answer = make_client(server.url).search_faces_by_image(
        CollectionId=COLLECTION_ID, Image={"Bytes": image}, FaceMatchThreshold=0, MaxFaces=SEARCH_MAX_FACES
    )
    return {match["Face"]["FaceId"] for match in answer["FaceMatches"]}


def index(server: RunningServer, image: bytes, calls: int) -> set[str]:
    client = make_client(server.url)
    return {
        record["Face"]["FaceId"]
        for _ in range(calls)
        for record in client.index_faces(CollectionId=COLLECTION_ID, Image={"Bytes": image})["FaceRecords"]
    }


def wait_for_scan(server: RunningServer) -> None:
    deadline = time.monotonic() + BUILD_WAIT_S
    while "scan built" not in server.log:
        assert time.monotonic() < deadline, "the quantized scan was never built"
        time.sleep(0.1)


def kill_9(server: RunningServer) -> None:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)


def test_kill_9_after_writes_and_during_a_start_up_build(tmp_path: Path) -> None:
    image = three_faces_jpeg()
    server = serve(tmp_path)
    make_client(server.url).create_collection(CollectionId=COLLECTION_ID)
    expected = index(server, image, 10)
    assert len(expected) == 30 > EXACT_SEARCH_MAX_FACES
    assert all_face_ids(server, image) == expected  # loads the collection and starts the scan's build
    wait_for_scan(server)
    deleted = sorted(expected)[:5]
    make_client(server.url).delete_faces(CollectionId=COLLECTION_ID, FaceIds=deleted)
    expected = (expected - set(deleted)) | index(server, image, 2)
    assert all_face_ids(server, image) == expected
    kill_9(server)

    server = serve(tmp_path)
    assert all_face_ids(server, image) == expected  # exact, while the scan is built again in the background
    kill_9(server)  # during or just after that build

    server = serve(tmp_path)
    try:
        assert all_face_ids(server, image) == expected
        wait_for_scan(server)
        assert all_face_ids(server, image) == expected
        assert make_client(server.url).describe_collection(CollectionId=COLLECTION_ID)["FaceCount"] == len(expected)
    finally:
        stop_server(server)
