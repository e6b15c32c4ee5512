"""The users store on real SQLite: scoped users, associations with their refusals, request tokens, exact search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reko.store.collections import CollectionNotFoundError, CollectionStore, NewFace
from reko.store.memory_search import MemoryFaceSearch
from reko.store.sqlite import SqliteDatabase
from reko.store.users import (
    Refusal,
    RefusedFace,
    RequestToken,
    TokenReusedError,
    TooManyUserFacesError,
    UserExistsError,
    UserNotFoundError,
    UserStore,
)
from tests.store.test_collections_store import ALICE, BOB, new_face


def open_stores(path: Path) -> tuple[CollectionStore, UserStore]:
    database = SqliteDatabase(path / "reko.sqlite3")
    return CollectionStore(database, MemoryFaceSearch(database)), UserStore(database)


def near(face: NewFace, seed: int, cosine: float) -> NewFace:
    """A new face whose vector has exactly `cosine` with `face`'s."""
    noise = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
    noise -= noise @ face.embedding * face.embedding
    noise /= np.linalg.norm(noise)
    vector = cosine * face.embedding + np.sqrt(1 - cosine**2) * noise
    return NewFace(new_face(seed).face, (vector / np.linalg.norm(vector)).astype(np.float32))


@pytest.fixture
def stores(tmp_path: Path) -> tuple[CollectionStore, UserStore]:
    collections, users = open_stores(tmp_path)
    collections.create(ALICE, "staff", "arn:staff", "v1", {})
    return collections, users


def ids(faces: list[NewFace]) -> list[str]:
    return [face.face.face_id for face in faces]


def test_users_are_scoped_listed_in_order_and_counted(stores: tuple[CollectionStore, UserStore]) -> None:
    collections, users = stores
    for user_id in ("carol", "alice", "bob"):
        users.create(ALICE, "staff", user_id, None)
    with pytest.raises(UserExistsError):
        users.create(ALICE, "staff", "alice", None)
    with pytest.raises(CollectionNotFoundError):
        users.create(BOB, "staff", "alice", None)  # Bob has no collection of that id
    collections.create(BOB, "staff", "arn:bob-staff", "v1", {})
    users.create(BOB, "staff", "alice", None)
    assert [user.user_id for user in users.list_users(ALICE, "staff", None, 2)] == ["alice", "bob"]
    assert [user.user_id for user in users.list_users(ALICE, "staff", "bob", 2)] == ["carol"]
    assert users.count(ALICE, "staff") == 3 and users.count(BOB, "staff") == 1
    users.delete(BOB, "staff", "alice", None)
    assert users.count(ALICE, "staff") == 3
    with pytest.raises(UserNotFoundError):
        users.delete(BOB, "staff", "alice", None)


def test_associate_refuses_unknown_foreign_and_unlike_faces(stores: tuple[CollectionStore, UserStore]) -> None:
    collections, users = stores
    first = new_face(1)
    like, unlike, other = near(first, 2, 0.6), near(first, 3, 0.2), new_face(4)
    collections.add_faces(ALICE, "staff", [first, like, unlike, other])
    users.create(ALICE, "staff", "ann", None)
    users.create(ALICE, "staff", "ben", None)
    assert users.associate(ALICE, "staff", "ben", ids([other]), 0.4, 100, None).face_count == 1
    change = users.associate(ALICE, "staff", "ann", ids([first]), 0.4, 100, None)
    assert change.changed == (first.face.face_id,) and change.face_count == 1
    stranger = "00000000-0000-4000-8000-000000000000"
    change = users.associate(
        ALICE, "staff", "ann", [*ids([first, like, unlike, other]), stranger, like.face.face_id], 0.4, 100, None
    )
    assert change.changed == (like.face.face_id,)  # `first` is already hers: left out; `like` counted once
    unlike_refusal, other_refusal, stranger_refusal = change.refused
    assert unlike_refusal.refusal is Refusal.LOW_MATCH and unlike_refusal.cosine == pytest.approx(0.2, abs=1e-5)
    assert other_refusal == RefusedFace(other.face.face_id, Refusal.OTHER_USER, user_id="ben")
    assert stranger_refusal == RefusedFace(stranger, Refusal.NOT_FOUND)
    assert change.face_count == 2
    listed = collections.list_faces(ALICE, "staff", None, 10, user_id="ann")
    assert sorted(face.face_id for face in listed) == sorted(ids([first, like]))
    assert {face.user_id for face in listed} == {"ann"}
    with pytest.raises(UserNotFoundError):
        users.associate(ALICE, "staff", "nobody", ids([unlike]), 0.4, 100, None)


def test_a_user_keeps_at_most_its_limit_of_faces(stores: tuple[CollectionStore, UserStore]) -> None:
    collections, users = stores
    first = new_face(1)
    faces = [first, *(near(first, seed, 0.9) for seed in range(2, 5))]
    collections.add_faces(ALICE, "staff", faces)
    users.create(ALICE, "staff", "ann", None)
    users.associate(ALICE, "staff", "ann", ids(faces[:2]), 0.4, 3, None)
    with pytest.raises(TooManyUserFacesError):
        users.associate(ALICE, "staff", "ann", ids(faces[2:]), 0.4, 3, None)
    assert users.require(ALICE, "staff", "ann").face_count == 2  # nothing of the refused call was written
    assert users.associate(ALICE, "staff", "ann", ids(faces[2:3]), 0.4, 3, None).face_count == 3


def test_disassociate_delete_user_and_delete_faces_release_faces(stores: tuple[CollectionStore, UserStore]) -> None:
    collections, users = stores
    first, second, third = new_face(1), new_face(2), new_face(3)
    collections.add_faces(ALICE, "staff", [first, second, third])
    users.create(ALICE, "staff", "ann", None)
    users.create(ALICE, "staff", "ben", None)
    users.associate(ALICE, "staff", "ann", ids([first, second]), -1.0, 100, None)
    users.associate(ALICE, "staff", "ben", ids([third]), -1.0, 100, None)
    change = users.disassociate(ALICE, "staff", "ann", [*ids([first, third]), "00000000-0000-4000-8000-000000000001"],
                                None)
    assert change.changed == (first.face.face_id,) and change.face_count == 1
    assert [refused.refusal for refused in change.refused] == [Refusal.OTHER_USER, Refusal.NOT_FOUND]
    assert users.disassociate(ALICE, "staff", "ann", ids([first]), None).changed == ()  # of no user: left out
    collections.delete_faces(ALICE, "staff", ids([second]))
    assert users.require(ALICE, "staff", "ann").face_count == 0
    users.delete(ALICE, "staff", "ben", None)
    assert collections.list_faces(ALICE, "staff", None, 10, ids([third]))[0].user_id is None
    users.create(ALICE, "staff", "ben", None)  # a new user of the old id does not inherit the faces
    assert users.require(ALICE, "staff", "ben").face_count == 0


def test_request_tokens_replay_refuse_other_parameters_and_expire(stores: tuple[CollectionStore, UserStore]) -> None:
    collections, users = stores
    token = RequestToken("CreateUser", "token-1", "fingerprint-a")
    users.create(ALICE, "staff", "ann", token)
    users.create(ALICE, "staff", "ann", token)  # the retry is answered from the record
    with pytest.raises(TokenReusedError):
        users.create(ALICE, "staff", "bob", RequestToken("CreateUser", "token-1", "fingerprint-b"))
    with pytest.raises(UserExistsError):
        users.create(ALICE, "staff", "ann", RequestToken("CreateUser", "token-2", "fingerprint-a"))
    face = new_face(1)
    collections.add_faces(ALICE, "staff", [face])
    associate = RequestToken("AssociateFaces", "token-1", "fingerprint-c")  # tokens are per operation
    first = users.associate(ALICE, "staff", "ann", ids([face]), 0.4, 100, associate)
    users.disassociate(ALICE, "staff", "ann", ids([face]), None)
    assert users.associate(ALICE, "staff", "ann", ids([face]), 0.4, 100, associate) == first
    assert users.require(ALICE, "staff", "ann").face_count == 0  # the replay wrote nothing
    with users.database.transaction() as connection:
        connection.execute("UPDATE request_tokens SET created_at_s = created_at_s - 2 * 24 * 3600")
    with pytest.raises(UserExistsError):
        users.create(ALICE, "staff", "ann", token)  # an expired token is a new request
    collections.delete(ALICE, "staff")
    [(left,)] = users.database.read("SELECT COUNT(*) FROM request_tokens")
    assert left == 0


def test_nearest_users_is_exact_over_every_face_of_a_user(stores: tuple[CollectionStore, UserStore]) -> None:
    collections, users = stores
    query = new_face(1)
    ann_faces = [near(query, 2, 0.1), near(query, 3, 0.7)]  # her second photo is the close one
    ben_faces = [near(query, 4, 0.5)]
    loose = near(query, 5, 0.99)  # nearest of all, but of no user
    collections.add_faces(ALICE, "staff", [*ann_faces, *ben_faces, loose])
    for user_id, faces in (("ann", ann_faces), ("ben", ben_faces), ("cid", [])):
        users.create(ALICE, "staff", user_id, None)
        if faces:
            users.associate(ALICE, "staff", user_id, ids(faces), -1.0, 100, None)
    nearest = users.nearest_users(ALICE, "staff", query.embedding[None], 10)
    assert [(user.user_id, user.face_count) for user, _ in nearest] == [("ann", 2), ("ben", 1)]
    assert [cosine for _, cosine in nearest] == pytest.approx([0.7, 0.5], abs=1e-5)
    assert [user.user_id for user, _ in users.nearest_users(ALICE, "staff", query.embedding[None], 1)] == ["ann"]
    by_user = users.nearest_users(ALICE, "staff", users.user_vectors(ALICE, "staff", "ann"), 10, "ann")
    assert [user.user_id for user, _ in by_user] == ["ben"]
    with pytest.raises(CollectionNotFoundError):
        users.nearest_users(BOB, "staff", query.embedding[None], 10)


def test_users_and_associations_survive_a_reopen(tmp_path: Path) -> None:
    collections, users = open_stores(tmp_path)
    collections.create(ALICE, "staff", "arn:staff", "v1", {})
    face = new_face(1)
    collections.add_faces(ALICE, "staff", [face])
    users.create(ALICE, "staff", "ann", RequestToken("CreateUser", "t", "f"))
    users.associate(ALICE, "staff", "ann", ids([face]), 0.4, 100, None)
    users.database.close()
    collections, users = open_stores(tmp_path)
    assert users.require(ALICE, "staff", "ann").face_count == 1
    users.create(ALICE, "staff", "ann", RequestToken("CreateUser", "t", "f"))  # the token is remembered too
    assert collections.list_faces(ALICE, "staff", None, 10)[0].user_id == "ann"
