"""The embedded backend's search: exact while the scan builds in the background, current after every write, and
rebuilt from the table by each new process."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import numpy as np

from reko.store import Scope
from reko.store.collections import CollectionStore, NewFace, StoredFace
from reko.store.memory_search import MemoryFaceSearch
from reko.store.sqlite import SqliteDatabase

ALICE = Scope("111111111111", "us-east-1")
EXACT_MAX_FACES = 200  # small, so a few hundred faces take the scan's path
FACES = 500
BUILD_WAIT_S = 30.0


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, 128)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def new_faces(vectors: np.ndarray) -> list[NewFace]:
    return [NewFace(StoredFace(str(uuid.uuid4()), "image", None, (0.1, 0.1, 0.2, 0.2), 99.0), v) for v in vectors]


def open_store(folder: Path) -> tuple[CollectionStore, MemoryFaceSearch]:
    database = SqliteDatabase(folder / "reko.sqlite3")
    search = MemoryFaceSearch(database, EXACT_MAX_FACES)
    return CollectionStore(database, search), search


def top_face(store: CollectionStore, vector: np.ndarray) -> str:
    [(face, _)] = store.search(ALICE, "staff", vector, 1)
    return face.face_id


def wait_for_scan(search: MemoryFaceSearch) -> None:
    deadline = time.monotonic() + BUILD_WAIT_S
    while not search._indexes[(ALICE, "staff")].uses_scan:
        assert time.monotonic() < deadline, "the scan was never built"
        time.sleep(0.05)


def test_exact_while_building_then_the_scan_follows_every_write(tmp_path: Path) -> None:
    store, search = open_store(tmp_path)
    store.create(ALICE, "staff", "arn:staff", "v1", {})
    faces = new_faces(unit_vectors(FACES, seed=1))
    store.add_faces(ALICE, "staff", faces)
    assert top_face(store, faces[7].embedding) == faces[7].face.face_id  # exact: the build has just started
    wait_for_scan(search)
    added = new_faces(unit_vectors(3, seed=3))
    store.add_faces(ALICE, "staff", added)
    store.delete_faces(ALICE, "staff", [faces[1].face.face_id])
    assert top_face(store, added[2].embedding) == added[2].face.face_id
    assert faces[1].face.face_id not in [f.face_id for f, _ in store.search(ALICE, "staff", faces[1].embedding, 5)]
    other, _ = open_store(tmp_path)  # another process writes: a delete and an add the index never heard of
    other.delete_faces(ALICE, "staff", [faces[0].face.face_id])
    later = new_faces(unit_vectors(1, seed=4))
    other.add_faces(ALICE, "staff", later)
    found = [face.face_id for face, _ in store.search(ALICE, "staff", faces[0].embedding, FACES + 10)]
    assert faces[0].face.face_id not in found and len(found) == FACES + 3 + 1 - 2
    assert top_face(store, later[0].embedding) == later[0].face.face_id
    assert search._indexes[(ALICE, "staff")].uses_scan  # brought up to date, not rebuilt


def test_a_new_process_rebuilds_from_the_table_and_a_deleted_collection_drops_its_index(tmp_path: Path) -> None:
    first, _ = open_store(tmp_path)
    first.create(ALICE, "staff", "arn:staff", "v1", {})
    faces = new_faces(unit_vectors(FACES, seed=2))
    first.add_faces(ALICE, "staff", faces)
    first.database.close()  # type: ignore[attr-defined]
    store, search = open_store(tmp_path)
    assert top_face(store, faces[3].embedding) == faces[3].face.face_id
    wait_for_scan(search)
    assert top_face(store, faces[4].embedding) == faces[4].face.face_id
    store.delete(ALICE, "staff")
    assert (ALICE, "staff") not in search._indexes
