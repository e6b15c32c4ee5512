"""The collections store: scoped by account, paginated by name, durable across a reopen."""

from __future__ import annotations

import uuid
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
from reko.store.sqlite import SqliteDatabase

ALICE = Scope("111111111111", "us-east-1")
BOB = Scope("222222222222", "us-east-1")


def new_face(seed: int, external: str | None = None) -> NewFace:
    vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    face = StoredFace(str(uuid.uuid4()), str(uuid.uuid4()), external, (0.1, 0.2, 0.3, 0.4), 99.5)
    return NewFace(face, vector / np.linalg.norm(vector))


def open_store(path: Path) -> CollectionStore:
    return CollectionStore(SqliteDatabase(path / "reko.sqlite3"))


def test_collections_are_scoped_and_paginated(tmp_path: Path) -> None:
    store = open_store(tmp_path)
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


def test_faces_round_trip_survive_reopen_and_cascade(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.create(ALICE, "staff", "arn:staff", "v1", {})
    faces = [new_face(seed, f"img{seed}") for seed in range(3)]
    store.add_faces(ALICE, "staff", faces)
    with pytest.raises(CollectionNotFoundError):
        store.vectors(BOB, "staff")
    store.database.close()
    reopened = open_store(tmp_path)
    stored, matrix = reopened.vectors(ALICE, "staff")
    assert [face.face_id for face in stored] == [new.face.face_id for new in faces]
    assert np.array_equal(matrix, np.stack([new.embedding for new in faces]))
    assert reopened.describe(ALICE, "staff")[1] == 3
    gone = reopened.delete_faces(ALICE, "staff", [faces[0].face.face_id, "not-a-face"])
    assert gone == [faces[0].face.face_id]
    listed = reopened.list_faces(ALICE, "staff", None, 10)
    assert sorted(face.face_id for face in listed) == sorted(new.face.face_id for new in faces[1:])
    reopened.delete(ALICE, "staff")
    (count,) = reopened.database.connection.execute("SELECT COUNT(*) FROM faces").fetchone()
    assert count == 0


def test_cached_vectors_follow_writes_of_this_and_other_connections(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.create(ALICE, "staff", "arn:staff", "v1", {})
    first = new_face(1)
    store.add_faces(ALICE, "staff", [first])
    assert [face.face_id for face in store.vectors(ALICE, "staff")[0]] == [first.face.face_id]
    assert store.vectors(ALICE, "staff") is store.vectors(ALICE, "staff")  # unchanged: served from memory
    cached = store.vectors(ALICE, "staff")
    third = new_face(3)
    store.add_faces(ALICE, "staff", [third])  # joins the cached vectors: equal to a reload
    appended = store.vectors(ALICE, "staff")
    assert appended is not cached and [face.face_id for face in appended[0]] == [first.face.face_id, third.face.face_id]
    assert np.array_equal(appended[1], open_store(tmp_path).vectors(ALICE, "staff")[1])
    store.delete_faces(ALICE, "staff", [third.face.face_id])
    other = open_store(tmp_path)  # a second process on the same data folder
    second = new_face(2)
    other.add_faces(ALICE, "staff", [second])
    assert len(store.vectors(ALICE, "staff")[0]) == 2
    store.delete_faces(ALICE, "staff", [first.face.face_id])
    faces, matrix = store.vectors(ALICE, "staff")
    assert [face.face_id for face in faces] == [second.face.face_id] and matrix.shape == (1, 128)
    other.delete_faces(ALICE, "staff", [second.face.face_id])
    assert store.vectors(ALICE, "staff")[0] == []
