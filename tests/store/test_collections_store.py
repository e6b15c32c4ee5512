"""The collections store, on each database: scoped by account, paginated by name, durable across a reopen."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from reko.store import Scope
from reko.store.collections import (
    CollectionExistsError,
    CollectionNotFoundError,
    CollectionStore,
    NewFace,
    StoredFace,
)
from reko.store.memory_search import MemoryFaceSearch
from reko.store.pgvector_search import PgvectorFaceSearch
from reko.store.postgres import PostgresDatabase
from reko.store.sqlite import SqliteDatabase
from tests.conftest import STORE_BACKENDS

ALICE = Scope("111111111111", "us-east-1")
BOB = Scope("222222222222", "us-east-1")


def new_face(seed: int, external: str | None = None) -> NewFace:
    vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    face = StoredFace(str(uuid.uuid4()), str(uuid.uuid4()), external, (0.1, 0.2, 0.3, 0.4), 99.5)
    return NewFace(face, vector / np.linalg.norm(vector))


OpenStore = Callable[[], CollectionStore]


@pytest.fixture(params=STORE_BACKENDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens the test's database, the same one at each call, as a restarted server or a second process would."""
    opened: list[SqliteDatabase | PostgresDatabase] = []

    def open_sqlite() -> CollectionStore:
        database = SqliteDatabase(tmp_path / "reko.sqlite3")
        opened.append(database)
        return CollectionStore(database, MemoryFaceSearch(database))

    def open_postgres() -> CollectionStore:
        database = PostgresDatabase(url)
        opened.append(database)
        return CollectionStore(database, PgvectorFaceSearch(database))

    if request.param == "postgres":
        url = request.getfixturevalue("postgres").new_database()
    yield open_sqlite if request.param == "sqlite" else open_postgres
    for database in opened:
        database.close()


def found_ids(store: CollectionStore, query: NewFace, count: int = 10) -> list[str]:
    return [face.face_id for face, _ in store.search(ALICE, "staff", query.embedding, count)]


def test_collections_are_scoped_and_paginated(open_store: OpenStore) -> None:
    store = open_store()
    for name in ("c", "a", "b"):
        store.create(ALICE, name, f"arn:{name}", "v1", {})
    with pytest.raises(CollectionExistsError):
        store.create(ALICE, "a", "arn:a", "v1", {})
    store.create(BOB, "a", "arn:bob-a", "v1", {"team": "b"})  # the same id in another account is another collection
    assert [c.collection_id for c in store.list_collections(ALICE, None, 2)] == ["a", "b"]
    assert [c.collection_id for c in store.list_collections(ALICE, "b", 2)] == ["c"]
    assert [c.arn for c in store.list_collections(BOB, None, 10)] == ["arn:bob-a"]
    store.delete(ALICE, "a")
    with pytest.raises(CollectionNotFoundError):
        store.describe(ALICE, "a")
    assert store.describe(BOB, "a")[0].arn == "arn:bob-a"


def test_faces_round_trip_survive_reopen_and_cascade(open_store: OpenStore) -> None:
    store = open_store()
    store.create(ALICE, "staff", "arn:staff", "v1", {})
    faces = [new_face(seed, f"img{seed}") for seed in range(3)]
    store.add_faces(ALICE, "staff", faces)
    with pytest.raises(CollectionNotFoundError):
        store.search(BOB, "staff", faces[0].embedding, 10)
    store.database.close()
    reopened = open_store()
    for new in faces:
        [(nearest, cosine)] = reopened.search(ALICE, "staff", new.embedding, 1)
        assert nearest == new.face and cosine == pytest.approx(1.0, abs=1e-5)
    vector = reopened.face_vector(ALICE, "staff", faces[1].face.face_id)
    assert vector is not None and np.array_equal(vector, faces[1].embedding)
    assert reopened.describe(ALICE, "staff")[1] == 3
    gone = reopened.delete_faces(ALICE, "staff", [faces[0].face.face_id, "not-a-face"])
    assert gone == [faces[0].face.face_id]
    listed = reopened.list_faces(ALICE, "staff", None, 10)
    assert sorted(face.face_id for face in listed) == sorted(new.face.face_id for new in faces[1:])
    reopened.delete(ALICE, "staff")
    assert reopened.database.read("SELECT COUNT(*) FROM faces") == [(0,)]


def test_search_follows_writes_of_this_and_other_connections(open_store: OpenStore) -> None:
    store = open_store()
    store.create(ALICE, "staff", "arn:staff", "v1", {})
    first, second, third = new_face(1), new_face(2), new_face(3)
    store.add_faces(ALICE, "staff", [first])
    assert found_ids(store, first) == [first.face.face_id]
    store.add_faces(ALICE, "staff", [third])  # joins the loaded vectors
    assert found_ids(store, third) == [third.face.face_id, first.face.face_id]
    assert found_ids(store, third, 1) == [third.face.face_id]
    store.delete_faces(ALICE, "staff", [third.face.face_id])
    other = open_store()  # a second process on the same database
    other.add_faces(ALICE, "staff", [second])
    assert found_ids(store, second) == [second.face.face_id, first.face.face_id]
    store.delete_faces(ALICE, "staff", [first.face.face_id])
    assert found_ids(store, first) == [second.face.face_id]
    other.delete_faces(ALICE, "staff", [second.face.face_id])
    assert found_ids(store, second) == []


def test_search_leaves_out_the_searched_face_and_numbers_are_never_reused(open_store: OpenStore) -> None:
    store = open_store()
    store.create(ALICE, "staff", "arn:staff", "v1", {})
    first, second = new_face(1), new_face(2)
    store.add_faces(ALICE, "staff", [first, second])
    assert [face.face_id for face, _ in store.search(ALICE, "staff", first.embedding, 1, first.face.face_id)] == [
        second.face.face_id
    ]
    store.delete_faces(ALICE, "staff", [second.face.face_id])  # the highest number goes
    replacement = new_face(3)
    store.add_faces(ALICE, "staff", [replacement])
    seqs = [row[0] for row in store.database.read("SELECT seq FROM faces ORDER BY seq")]
    assert seqs == [1, 3]  # 2 is not given to the replacement
    assert found_ids(store, replacement, 1) == [replacement.face.face_id]
