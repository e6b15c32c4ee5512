"""kill -9 around the embedded backend's search graph (issue 7): a snapshot older than the table, or a damaged one
during the start-up rebuild, never brings back a deleted face nor hides an acknowledged one.

The server runs with a tiny `--exact-search-max-faces`, so a few dozen faces take the HNSW path: the first search
loads the collection, builds the graph on a background thread and writes a snapshot. Snapshots are written only
after a build and at a clean stop, so after the deletes and adds below a kill -9 leaves one that is out of date;
the restart must reconcile it with the table. A graph of this size builds in milliseconds, so the second kill falls
right after the start-up rebuild began (it cannot be aimed inside it); what is checked is the state after it.
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
SNAPSHOT_WAIT_S = 60.0


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


def snapshots(data_dir: Path) -> list[Path]:
    return list((data_dir / "indexes").glob("*.index"))


def wait_for_snapshot(data_dir: Path) -> Path:
    deadline = time.monotonic() + SNAPSHOT_WAIT_S
    while not snapshots(data_dir):
        assert time.monotonic() < deadline, "the graph's snapshot was never written"
        time.sleep(0.1)
    return snapshots(data_dir)[0]


def kill_9(server: RunningServer) -> None:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)


def test_stale_and_damaged_snapshots_after_kill_9(tmp_path: Path) -> None:
    image = three_faces_jpeg()
    server = serve(tmp_path)
    make_client(server.url).create_collection(CollectionId=COLLECTION_ID)
    expected = index(server, image, 10)
    assert len(expected) == 30 > EXACT_SEARCH_MAX_FACES
    assert all_face_ids(server, image) == expected  # loads the collection and starts the graph build
    snapshot = wait_for_snapshot(tmp_path)
    deleted = sorted(expected)[:5]
    make_client(server.url).delete_faces(CollectionId=COLLECTION_ID, FaceIds=deleted)
    expected = (expected - set(deleted)) | index(server, image, 2)
    assert all_face_ids(server, image) == expected
    kill_9(server)  # the snapshot still holds the deleted faces and lacks the new ones

    server = serve(tmp_path)
    assert all_face_ids(server, image) == expected
    kill_9(server)

    snapshot.write_bytes(snapshot.read_bytes()[:1000])  # damaged: the start-up must rebuild from the table
    server = serve(tmp_path)
    assert all_face_ids(server, image) == expected  # exact, while the graph is rebuilt in the background
    kill_9(server)  # during or just after that rebuild

    server = serve(tmp_path)
    try:
        assert all_face_ids(server, image) == expected
        assert make_client(server.url).describe_collection(CollectionId=COLLECTION_ID)["FaceCount"] == len(expected)
    finally:
        stop_server(server)
