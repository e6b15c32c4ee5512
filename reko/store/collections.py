"""Face collections in the embedded SQLite database: collections, their faces and the faces' vectors.

Every method takes the caller's `Scope` and reads or writes only that account's rows in that region, so one
account never sees another's collections. Each write is one transaction committed (WAL, `synchronous=FULL`)
before the method returns: what an operation answered is on disk. Listing pages are ordered by name (collection
id, face id) and resume after the last name of the previous page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from reko.store.sqlite import SqliteDatabase

if TYPE_CHECKING:
    import sqlite3

    from reko.store import Scope

EMBEDDING_SIZE = 128  # SFace's vector length
EMBEDDING_DTYPE = np.dtype("<f4")  # stored as little-endian float32: 512 bytes a face


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


@dataclass(frozen=True)
class NewFace:
    face: StoredFace
    embedding: np.ndarray  # (128,) unit vector


FACE_COLUMNS = "face_id, image_id, external_image_id, box_left, box_top, box_width, box_height, confidence"


class CollectionStore:
    """Typed reads and writes of collections and faces over the shared `SqliteDatabase`."""

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        # Searches read every vector of a collection; rebuilding them from rows costs ~0.1 s per 10k faces, so
        # they are kept per collection until a write of this process or a commit of another connection to the
        # same file (`PRAGMA data_version` moves) makes them stale. About 0.5 kB a face stays in memory.
        self._vector_cache: dict[tuple[Scope, str], tuple[list[StoredFace], np.ndarray]] = {}
        self._cache_data_version: int | None = None

    @contextmanager
    def _transaction(self, on_commit: Callable[[], None] | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed when the block ends, rolled back if it raises.

        After the commit, still under the lock, `on_commit` brings the cached vectors up to date; without it
        they are all dropped.
        """
        with self.database.lock:
            connection = self.database.connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            if on_commit is None:
                self._vector_cache.clear()
            else:
                on_commit()

    def _rows(self, query: str, parameters: Sequence[object]) -> list[tuple]:
        with self.database.lock:
            return self.database.connection.execute(query, parameters).fetchall()

    def create(
        self, scope: Scope, collection_id: str, arn: str, face_model_version: str, tags: dict[str, str]
    ) -> Collection:
        created = Collection(collection_id, arn, time.time(), face_model_version)
        with self._transaction() as connection:
            if _collection_row(connection, scope, collection_id) is not None:
                raise CollectionExistsError(collection_id)
            connection.execute(
                "INSERT INTO collections VALUES (?, ?, ?, ?, ?, ?)",
                (scope.account_id, scope.region, collection_id, arn, created.created_at_s, face_model_version),
            )
            connection.executemany(
                "INSERT INTO collection_tags VALUES (?, ?, ?, ?, ?)",
                [(scope.account_id, scope.region, collection_id, key, value) for key, value in tags.items()],
            )
        return created

    def delete(self, scope: Scope, collection_id: str) -> None:
        """Delete a collection with its faces and tags (foreign keys cascade)."""
        with self._transaction() as connection:
            deleted = connection.execute(
                "DELETE FROM collections WHERE account_id = ? AND region = ? AND collection_id = ?",
                (scope.account_id, scope.region, collection_id),
            ).rowcount
            if deleted == 0:
                raise CollectionNotFoundError(collection_id)

    def describe(self, scope: Scope, collection_id: str) -> tuple[Collection, int]:
        """The collection and how many faces it holds."""
        with self.database.lock:
            row = _collection_row(self.database.connection, scope, collection_id)
            if row is None:
                raise CollectionNotFoundError(collection_id)
            (count,) = self.database.connection.execute(
                "SELECT COUNT(*) FROM faces WHERE account_id = ? AND region = ? AND collection_id = ?",
                (scope.account_id, scope.region, collection_id),
            ).fetchone()
        return Collection(*row), int(count)

    def list_collections(self, scope: Scope, after: str | None, limit: int) -> list[Collection]:
        """Up to `limit` collections whose ids sort after `after`, in id order."""
        rows = self._rows(
            "SELECT collection_id, arn, created_at_s, face_model_version FROM collections "
            "WHERE account_id = ? AND region = ? AND collection_id > ? ORDER BY collection_id LIMIT ?",
            (scope.account_id, scope.region, after or "", limit),
        )
        return [Collection(*row) for row in rows]

    def require(self, scope: Scope, collection_id: str) -> Collection:
        with self.database.lock:
            row = _collection_row(self.database.connection, scope, collection_id)
        if row is None:
            raise CollectionNotFoundError(collection_id)
        return Collection(*row)

    def add_faces(self, scope: Scope, collection_id: str, faces: Sequence[NewFace]) -> None:
        """All faces of one IndexFaces call in one transaction: all of them are stored, or none."""
        with self._transaction(lambda: self._append_cached(scope, collection_id, faces)) as connection:
            if _collection_row(connection, scope, collection_id) is None:
                raise CollectionNotFoundError(collection_id)
            (last,) = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM faces").fetchone()
            connection.executemany(
                f"INSERT INTO faces (seq, account_id, region, collection_id, embedding, {FACE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (last + number, scope.account_id, scope.region, collection_id, _blob(new.embedding),
                     *_face_values(new.face))
                    for number, new in enumerate(faces, start=1)
                ],
            )

    def _append_cached(self, scope: Scope, collection_id: str, faces: Sequence[NewFace]) -> None:
        """New faces join the collection's cached vectors (in `seq` order, as a reload would give them)."""
        cached = self._vector_cache.get((scope, collection_id))
        if cached is None or not faces:
            return
        stored, matrix = cached
        added = np.stack([np.asarray(new.embedding, np.float32).reshape(-1) for new in faces])
        self._vector_cache[(scope, collection_id)] = (
            [*stored, *(new.face for new in faces)], np.vstack([matrix, added])
        )

    def list_faces(
        self, scope: Scope, collection_id: str, after: str | None, limit: int, face_ids: Sequence[str] = ()
    ) -> list[StoredFace]:
        """Up to `limit` faces whose ids sort after `after`, in id order; only `face_ids` when given."""
        self.require(scope, collection_id)
        query = (
            f"SELECT {FACE_COLUMNS} FROM faces WHERE account_id = ? AND region = ? AND collection_id = ? "
            "AND face_id > ?"
        )
        parameters: list[object] = [scope.account_id, scope.region, collection_id, after or ""]
        if face_ids:
            query += f" AND face_id IN ({', '.join('?' * len(face_ids))})"
            parameters.extend(face_ids)
        rows = self._rows(query + " ORDER BY face_id LIMIT ?", [*parameters, limit])
        return [_stored_face(row) for row in rows]

    def delete_faces(self, scope: Scope, collection_id: str, face_ids: Sequence[str]) -> list[str]:
        """Delete the faces of `face_ids` that the collection holds; returns those deleted, in request order."""
        deleted: list[str] = []
        with self._transaction() as connection:
            if _collection_row(connection, scope, collection_id) is None:
                raise CollectionNotFoundError(collection_id)
            for face_id in dict.fromkeys(face_ids):
                gone = connection.execute(
                    "DELETE FROM faces WHERE account_id = ? AND region = ? AND collection_id = ? AND face_id = ?",
                    (scope.account_id, scope.region, collection_id, face_id),
                ).rowcount
                if gone:
                    deleted.append(face_id)
        return deleted

    def tag(self, scope: Scope, collection_id: str, tags: dict[str, str], max_tags: int) -> None:
        """Add `tags` to the collection, replacing the values of keys it has; refused whole if over `max_tags`."""
        with self._transaction(lambda: None) as connection:
            if _collection_row(connection, scope, collection_id) is None:
                raise CollectionNotFoundError(collection_id)
            connection.executemany(
                "INSERT OR REPLACE INTO collection_tags VALUES (?, ?, ?, ?, ?)",
                [(scope.account_id, scope.region, collection_id, key, value) for key, value in tags.items()],
            )
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM collection_tags WHERE account_id = ? AND region = ? AND collection_id = ?",
                (scope.account_id, scope.region, collection_id),
            ).fetchone()
            if count > max_tags:
                raise TooManyTagsError(collection_id)

    def untag(self, scope: Scope, collection_id: str, keys: Sequence[str]) -> None:
        """Remove the tags of `keys` from the collection; keys it does not have are ignored."""
        with self._transaction(lambda: None) as connection:
            if _collection_row(connection, scope, collection_id) is None:
                raise CollectionNotFoundError(collection_id)
            connection.executemany(
                "DELETE FROM collection_tags "
                "WHERE account_id = ? AND region = ? AND collection_id = ? AND tag_key = ?",
                [(scope.account_id, scope.region, collection_id, key) for key in keys],
            )

    def tags(self, scope: Scope, collection_id: str) -> dict[str, str]:
        """The collection's tags, in key order."""
        with self.database.lock:
            connection = self.database.connection
            if _collection_row(connection, scope, collection_id) is None:
                raise CollectionNotFoundError(collection_id)
            rows = connection.execute(
                "SELECT tag_key, tag_value FROM collection_tags "
                "WHERE account_id = ? AND region = ? AND collection_id = ? ORDER BY tag_key",
                (scope.account_id, scope.region, collection_id),
            ).fetchall()
        return {str(key): str(value) for key, value in rows}

    def vectors(self, scope: Scope, collection_id: str) -> tuple[list[StoredFace], np.ndarray]:
        """Every face of the collection and its vectors as one (n, 128) float32 matrix, for exact search.

        The same objects come back until the collection changes: callers must not modify them.
        """
        self.require(scope, collection_id)
        key = (scope, collection_id)
        with self.database.lock:
            (data_version,) = self.database.connection.execute("PRAGMA data_version").fetchone()
            if data_version != self._cache_data_version:
                self._vector_cache.clear()
                self._cache_data_version = data_version
            cached = self._vector_cache.get(key)
            if cached is not None:
                return cached
            rows = self.database.connection.execute(
                f"SELECT {FACE_COLUMNS}, embedding FROM faces "
                "WHERE account_id = ? AND region = ? AND collection_id = ? ORDER BY seq",
                (scope.account_id, scope.region, collection_id),
            ).fetchall()
            matrix = np.frombuffer(b"".join(row[-1] for row in rows), EMBEDDING_DTYPE).reshape(-1, EMBEDDING_SIZE)
            loaded = ([_stored_face(row[:-1]) for row in rows], matrix.astype(np.float32))
            self._vector_cache[key] = loaded
            return loaded

    def face_vector(self, scope: Scope, collection_id: str, face_id: str) -> np.ndarray | None:
        """The vector of one face of the collection, or None when the collection has no such face."""
        self.require(scope, collection_id)
        rows = self._rows(
            "SELECT embedding FROM faces WHERE account_id = ? AND region = ? AND collection_id = ? AND face_id = ?",
            (scope.account_id, scope.region, collection_id, face_id),
        )
        return np.frombuffer(rows[0][0], EMBEDDING_DTYPE).astype(np.float32) if rows else None


def _collection_row(connection: sqlite3.Connection, scope: Scope, collection_id: str) -> tuple | None:
    row: tuple | None = connection.execute(
        "SELECT collection_id, arn, created_at_s, face_model_version FROM collections "
        "WHERE account_id = ? AND region = ? AND collection_id = ?",
        (scope.account_id, scope.region, collection_id),
    ).fetchone()
    return row


def _blob(embedding: np.ndarray) -> bytes:
    vector = np.asarray(embedding, EMBEDDING_DTYPE).reshape(-1)
    if vector.shape != (EMBEDDING_SIZE,):
        raise ValueError(f"a face vector has {EMBEDDING_SIZE} values, got {vector.shape}")
    return vector.tobytes()


def _face_values(face: StoredFace) -> tuple[object, ...]:
    return (face.face_id, face.image_id, face.external_image_id, *face.box, face.confidence)


def _stored_face(row: Sequence[object]) -> StoredFace:
    face_id, image_id, external, left, top, width, height, confidence = row
    return StoredFace(
        face_id=str(face_id),
        image_id=str(image_id),
        external_image_id=None if external is None else str(external),
        box=(float(left), float(top), float(width), float(height)),  # type: ignore[arg-type]
        confidence=float(confidence),  # type: ignore[arg-type]
    )
