"""The embedded backend's search: graphs built in the background, snapshots written and reloaded, the table wins."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from reko.store import Scope
from reko.store.collections import CollectionStore, NewFace, StoredFace
from reko.store.memory_search import MemoryFaceSearch
from reko.store.sqlite import SqliteDatabase

ALICE = Scope("111111111111", "us-east-1")
EXACT_MAX_FACES = 200  # small, so a few hundred faces take the graph path
FACES = 500


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, 128)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def new_faces(vectors: np.ndarray) -> list[NewFace]:
    return [NewFace(StoredFace(str(uuid.uuid4()), "image", None, (0.1, 0.1, 0.2, 0.2), 99.0), v) for v in vectors]


def open_store(folder: Path) -> tuple[CollectionStore, MemoryFaceSearch]:
    database = SqliteDatabase(folder / "reko.sqlite3")
    search = MemoryFaceSearch(database, folder / "indexes", EXACT_MAX_FACES)
    return CollectionStore(database, search), search


def wait_for_snapshot(folder: Path, larger_than: int = 0, timeout_s: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        snapshots = [path for path in (folder / "indexes").glob("*.index") if path.stat().st_size > larger_than]
        if snapshots:
            return snapshots[0]
        time.sleep(0.05)
    raise AssertionError("no snapshot was written after the graph build")


def top_face(store: CollectionStore, vector: np.ndarray) -> str:
    [(face, _)] = store.search(ALICE, "staff", vector, 1)
    return face.face_id


@pytest.fixture
def big_collection(tmp_path: Path) -> tuple[Path, list[NewFace]]:
    """A collection past the exact limit, its graph built and snapshotted by a first search."""
    store, search = open_store(tmp_path)
    store.create(ALICE, "staff", "arn:staff", "v1", {})
    faces = new_faces(unit_vectors(FACES, seed=1))
    store.add_faces(ALICE, "staff", faces)
    assert top_face(store, faces[7].embedding) == faces[7].face.face_id  # exact while the graph builds
    wait_for_snapshot(tmp_path)
    assert top_face(store, faces[9].embedding) == faces[9].face.face_id
    search.close()
    store.database.close()  # type: ignore[attr-defined]
    return tmp_path, faces


def test_a_restart_loads_the_snapshot_and_catches_up_with_the_table(big_collection) -> None:
    folder, faces = big_collection
    other, _ = open_store(folder)  # writes the snapshot never saw: a delete and two adds
    other.delete_faces(ALICE, "staff", [faces[0].face.face_id])
    later = new_faces(unit_vectors(2, seed=2))
    other.add_faces(ALICE, "staff", later)
    store, search = open_store(folder)
    found = [face.face_id for face, _ in store.search(ALICE, "staff", faces[0].embedding, FACES + 10)]
    assert faces[0].face.face_id not in found and len(found) == FACES + 1
    assert top_face(store, later[1].embedding) == later[1].face.face_id
    index = search._indexes[(ALICE, "staff")]
    assert index.uses_scan  # from the snapshot, not rebuilt from the table


def test_a_damaged_snapshot_is_rebuilt_from_the_table(big_collection) -> None:
    folder, faces = big_collection
    snapshot = next((folder / "indexes").glob("*.index"))
    damaged_bytes = snapshot.stat().st_size // 2
    snapshot.write_bytes(snapshot.read_bytes()[:damaged_bytes])
    store, search = open_store(folder)
    assert top_face(store, faces[3].embedding) == faces[3].face.face_id
    wait_for_snapshot(folder, larger_than=damaged_bytes)  # built again from the table, and written
    assert search._indexes[(ALICE, "staff")].uses_scan


def test_writes_after_the_build_reach_the_graph_and_deleting_the_collection_drops_its_snapshot(
    big_collection,
) -> None:
    folder, faces = big_collection
    store, search = open_store(folder)
    top_face(store, faces[1].embedding)
    added = new_faces(unit_vectors(3, seed=3))
    store.add_faces(ALICE, "staff", added)
    store.delete_faces(ALICE, "staff", [faces[1].face.face_id])
    assert top_face(store, added[2].embedding) == added[2].face.face_id
    assert faces[1].face.face_id not in [f.face_id for f, _ in store.search(ALICE, "staff", faces[1].embedding, 5)]
    store.delete(ALICE, "staff")
    assert list((folder / "indexes").glob("*.index")) == []
