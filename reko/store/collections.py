"""Face collections: collections, their tags, their faces and the faces' vectors, in SQLite or PostgreSQL.

Every method takes the caller's `Scope` and reads or writes only that account's rows in that region, so one
account never sees another's collections. Each write is one transaction committed before the method returns: what
an operation answered is on disk. Listing pages are ordered by name (collection id, face id) and resume after the
last name of the previous page. The SQL here is written once for both databases (`?` placeholders, standard
statements); what differs — connections, vector columns, how the nearest vectors are found — sits behind
`Database` and `FaceSearch`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from reko.store import Scope

EMBEDDING_SIZE = 128  # SFace's vector length


class CollectionExistsError(Exception):
    """A collection of that id already exists in the caller's account and region."""


class CollectionNotFoundError(Exception):
    """No collection of that id exists in the caller's account and region."""


class TooManyTagsError(Exception):
    """A tagging would leave the collection with more tags than its limit; nothing was written."""


@dataclass(frozen=True)
class Collection:
    collection_id: str
    arn: str
    created_at_s: float  # seconds since the epoch
    face_model_version: str


@dataclass(frozen=True)
class StoredFace:
    """One indexed face as listings and searches give it back (its vector aside)."""

    face_id: str
    image_id: str
    external_image_id: str | None
    box: tuple[float, float, float, float]  # Left, Top, Width, Height as ratios of the image
    confidence: float  # percent
    user_id: str | None = None  # the user the face is associated with (see `reko.store.users`)


@dataclass(frozen=True)
class NewFace:
    face: StoredFace
    embedding: np.ndarray  # (128,) unit vector


FACE_COLUMNS = "face_id, image_id, external_image_id, box_left, box_top, box_width, box_height, confidence, user_id"
SCOPED = "account_id = ? AND region = ? AND collection_id = ?"


class Database(Protocol):
    """What the collections need of a database; `SqliteDatabase` and `PostgresDatabase` provide it."""

    # Ends a SELECT inside `transaction()` to lock the rows it read against other writers until the commit:
    # PostgreSQL's transactions run side by side (" FOR NO KEY UPDATE"); SQLite's write transaction already
    # excludes every other writer ("").
    row_lock: str
    # Ends the SELECT that claims a queued row: " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite.
    claim_lock: str

    def transaction(self) -> AbstractContextManager[Any]:
        """A connection whose `execute(sql, parameters)` runs in one transaction, committed when the block ends."""
        ...

    def read(self, query: str, parameters: Sequence[object] = ()) -> list[tuple]: ...

    def embedding_value(self, vector: np.ndarray) -> object: ...

    def embedding_vectors(self, values: Sequence[object], size: int) -> np.ndarray: ...


class FaceSearch(Protocol):
    """Finds the faces of a collection whose vectors are nearest a query, by `seq`.

    The embedded backend keeps the vectors in memory (exact below a size, an ANN index above); PostgreSQL searches
    with pgvector. The store tells it about writes: `prepare`/`discard` inside the transaction that creates or
    deletes a collection (for per-collection database indexes), `faces_added`/`faces_removed` after a commit.
    """

    def nearest(self, scope: Scope, collection_id: str, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to `count` (seqs, cosines), most similar first."""
        ...

    def prepare(self, connection: Any, scope: Scope, collection_id: str) -> None: ...

    def discard(self, connection: Any, scope: Scope, collection_id: str) -> None: ...

    def faces_added(self, scope: Scope, collection_id: str, seqs: Sequence[int], vectors: np.ndarray) -> None: ...

    def faces_removed(self, scope: Scope, collection_id: str, seqs: Sequence[int]) -> None: ...

    def close(self) -> None:
        """Called when the process stops cleanly."""
        ...


class CollectionStore:
    """Typed reads and writes of collections and faces over a `Database`, searched through a `FaceSearch`."""

    def __init__(self, database: Database, search: FaceSearch) -> None:
        self.database = database
        self.search_index = search

    def create(
        self, scope: Scope, collection_id: str, arn: str, face_model_version: str, tags: dict[str, str]
    ) -> Collection:
        created = Collection(collection_id, arn, time.time(), face_model_version)
        with self.database.transaction() as connection:
            # ON CONFLICT: a CreateCollection of the same id committing meanwhile (on PostgreSQL) is "exists" too.
            inserted = connection.execute(
                "INSERT INTO collections (account_id, region, collection_id, arn, created_at_s, face_model_version) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, collection_id) DO NOTHING",
                (scope.account_id, scope.region, collection_id, arn, created.created_at_s, face_model_version),
            ).rowcount
            if inserted == 0:
                raise CollectionExistsError(collection_id)
            for key, value in tags.items():
                connection.execute(
                    "INSERT INTO collection_tags VALUES (?, ?, ?, ?, ?)",
                    (scope.account_id, scope.region, collection_id, key, value),
                )
            self.search_index.prepare(connection, scope, collection_id)
        return created

    def delete(self, scope: Scope, collection_id: str) -> None:
        """Delete a collection with its faces and tags (foreign keys cascade)."""
        with self.database.transaction() as connection:
            deleted = connection.execute(
                f"DELETE FROM collections WHERE {SCOPED}", (scope.account_id, scope.region, collection_id)
            ).rowcount
            if deleted == 0:
                raise CollectionNotFoundError(collection_id)
            self.search_index.discard(connection, scope, collection_id)

    def describe(self, scope: Scope, collection_id: str) -> tuple[Collection, int]:
        """The collection and how many faces it holds."""
        collection = self.require(scope, collection_id)
        [(count,)] = self.database.read(
            f"SELECT COUNT(*) FROM faces WHERE {SCOPED}", (scope.account_id, scope.region, collection_id)
        )
        return collection, int(count)

    def list_collections(self, scope: Scope, after: str | None, limit: int) -> list[Collection]:
        """Up to `limit` collections whose ids sort after `after`, in id order."""
        rows = self.database.read(
            "SELECT collection_id, arn, created_at_s, face_model_version FROM collections "
            "WHERE account_id = ? AND region = ? AND collection_id > ? ORDER BY collection_id LIMIT ?",
            (scope.account_id, scope.region, after or "", limit),
        )
        return [_collection(row) for row in rows]

    def require(self, scope: Scope, collection_id: str) -> Collection:
        rows = self.database.read(
            f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE {SCOPED}",
            (scope.account_id, scope.region, collection_id),
        )
        if not rows:
            raise CollectionNotFoundError(collection_id)
        return _collection(rows[0])

    def add_faces(self, scope: Scope, collection_id: str, faces: Sequence[NewFace]) -> None:
        """All faces of one IndexFaces call in one transaction: all of them are stored, or none."""
        if not faces:
            self.require(scope, collection_id)
            return
        with self.database.transaction() as connection:
            self._lock_collection(connection, scope, collection_id)
            [(last,)] = connection.execute(
                "UPDATE counters SET value = value + ? WHERE name = 'face_seq' RETURNING value", (len(faces),)
            ).fetchall()
            seqs = list(range(int(last) - len(faces) + 1, int(last) + 1))
            for seq, new in zip(seqs, faces, strict=True):
                connection.execute(
                    f"INSERT INTO faces (seq, account_id, region, collection_id, embedding, {FACE_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, scope.account_id, scope.region, collection_id,
                     self.database.embedding_value(_checked_vector(new.embedding)), *_face_values(new.face)),
                )
        vectors = np.stack([_checked_vector(new.embedding) for new in faces])
        self.search_index.faces_added(scope, collection_id, seqs, vectors)

    def list_faces(
        self,
        scope: Scope,
        collection_id: str,
        after: str | None,
        limit: int,
        face_ids: Sequence[str] = (),
        user_id: str | None = None,
    ) -> list[StoredFace]:
        """Up to `limit` faces whose ids sort after `after`, in id order; only `face_ids` and only the faces of
        `user_id` when given."""
        self.require(scope, collection_id)
        query = f"SELECT {FACE_COLUMNS} FROM faces WHERE {SCOPED} AND face_id > ?"
        parameters: list[object] = [scope.account_id, scope.region, collection_id, after or ""]
        if user_id is not None:
            query += " AND user_id = ?"
            parameters.append(user_id)
        if face_ids:
            query += f" AND face_id IN ({', '.join('?' * len(face_ids))})"
            parameters.extend(face_ids)
        rows = self.database.read(query + " ORDER BY face_id LIMIT ?", [*parameters, limit])
        return [_stored_face(row) for row in rows]

    def delete_faces(self, scope: Scope, collection_id: str, face_ids: Sequence[str]) -> list[str]:
        """Delete the faces of `face_ids` that the collection holds; returns those deleted, in request order."""
        deleted: list[str] = []
        seqs: list[int] = []
        with self.database.transaction() as connection:
            self._lock_collection(connection, scope, collection_id)
            for face_id in dict.fromkeys(face_ids):
                gone = connection.execute(
                    f"DELETE FROM faces WHERE {SCOPED} AND face_id = ? RETURNING seq",
                    (scope.account_id, scope.region, collection_id, face_id),
                ).fetchall()
                if gone:
                    deleted.append(face_id)
                    seqs.append(int(gone[0][0]))
        self.search_index.faces_removed(scope, collection_id, seqs)
        return deleted

    def search(
        self, scope: Scope, collection_id: str, query: np.ndarray, count: int, exclude_face_id: str | None = None
    ) -> list[tuple[StoredFace, float]]:
        """The `count` faces of the collection nearest `query`, with their cosine similarity, most similar first.

        Hits are read back from the table, so a face deleted after the search index saw it never comes back.
        """
        self.require(scope, collection_id)
        wanted = count + (1 if exclude_face_id is not None else 0)
        seqs, cosines = self.search_index.nearest(scope, collection_id, _checked_vector(query), wanted)
        if len(seqs) == 0:
            return []
        rows = self.database.read(
            f"SELECT seq, {FACE_COLUMNS} FROM faces WHERE {SCOPED} AND seq IN ({', '.join('?' * len(seqs))})",
            [scope.account_id, scope.region, collection_id, *(int(seq) for seq in seqs)],
        )
        by_seq = {int(row[0]): _stored_face(row[1:]) for row in rows}
        found = [
            (by_seq[int(seq)], float(cosine))
            for seq, cosine in zip(seqs, cosines, strict=True)
            if int(seq) in by_seq and by_seq[int(seq)].face_id != exclude_face_id
        ]
        return found[:count]

    def face_vector(self, scope: Scope, collection_id: str, face_id: str) -> np.ndarray | None:
        """The vector of one face of the collection, or None when the collection has no such face."""
        self.require(scope, collection_id)
        rows = self.database.read(
            f"SELECT embedding FROM faces WHERE {SCOPED} AND face_id = ?",
            (scope.account_id, scope.region, collection_id, face_id),
        )
        return self.database.embedding_vectors([rows[0][0]], EMBEDDING_SIZE)[0] if rows else None

    def tag(self, scope: Scope, collection_id: str, tags: dict[str, str], max_tags: int) -> None:
        """Add `tags` to the collection, replacing the values of keys it has; refused whole if over `max_tags`."""
        with self.database.transaction() as connection:
            self._lock_collection(connection, scope, collection_id)
            for key, value in tags.items():
                connection.execute(
                    "INSERT INTO collection_tags VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (account_id, region, collection_id, tag_key) "
                    "DO UPDATE SET tag_value = excluded.tag_value",
                    (scope.account_id, scope.region, collection_id, key, value),
                )
            [(count,)] = connection.execute(
                f"SELECT COUNT(*) FROM collection_tags WHERE {SCOPED}", (scope.account_id, scope.region, collection_id)
            ).fetchall()
            if count > max_tags:
                raise TooManyTagsError(collection_id)

    def untag(self, scope: Scope, collection_id: str, keys: Sequence[str]) -> None:
        """Remove the tags of `keys` from the collection; keys it does not have are ignored."""
        with self.database.transaction() as connection:
            self._lock_collection(connection, scope, collection_id)
            for key in keys:
                connection.execute(
                    f"DELETE FROM collection_tags WHERE {SCOPED} AND tag_key = ?",
                    (scope.account_id, scope.region, collection_id, key),
                )

    def tags(self, scope: Scope, collection_id: str) -> dict[str, str]:
        """The collection's tags, in key order."""
        self.require(scope, collection_id)
        rows = self.database.read(
            f"SELECT tag_key, tag_value FROM collection_tags WHERE {SCOPED} ORDER BY tag_key",
            (scope.account_id, scope.region, collection_id),
        )
        return {str(key): str(value) for key, value in rows}

    def _lock_collection(self, connection: Any, scope: Scope, collection_id: str) -> None:
        """Inside a write transaction: raise CollectionNotFoundError unless the collection exists, and hold its
        row until the commit, so writes to one collection take turns (TagResource's count stays exact) and a
        DeleteCollection waits for them, or went first and is seen."""
        rows = connection.execute(
            f"SELECT 1 FROM collections WHERE {SCOPED}{self.database.row_lock}",
            (scope.account_id, scope.region, collection_id),
        ).fetchall()
        if not rows:
            raise CollectionNotFoundError(collection_id)


COLLECTION_COLUMNS = "collection_id, arn, created_at_s, face_model_version"


def _collection(row: Sequence[object]) -> Collection:
    collection_id, arn, created_at_s, face_model_version = row
    return Collection(str(collection_id), str(arn), float(created_at_s), str(face_model_version))  # type: ignore[arg-type]


def _checked_vector(embedding: np.ndarray) -> np.ndarray:
    vector = np.asarray(embedding, np.float32).reshape(-1)
    if vector.shape != (EMBEDDING_SIZE,):
        raise ValueError(f"a face vector has {EMBEDDING_SIZE} values, got {vector.shape}")
    return vector


def _face_values(face: StoredFace) -> tuple[object, ...]:
    return (face.face_id, face.image_id, face.external_image_id, *face.box, face.confidence, face.user_id)


def _stored_face(row: Sequence[object]) -> StoredFace:
    face_id, image_id, external, left, top, width, height, confidence, user_id = row
    return StoredFace(
        face_id=str(face_id),
        image_id=str(image_id),
        external_image_id=None if external is None else str(external),
        box=(float(left), float(top), float(width), float(height)),  # type: ignore[arg-type]
        confidence=float(confidence),  # type: ignore[arg-type]
        user_id=None if user_id is None else str(user_id),
    )
