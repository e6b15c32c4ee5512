"""Users of face collections: user ids, the faces associated with each, and the request tokens that make writes
idempotent, in SQLite or PostgreSQL.

A user lives in one collection of one account and region (`Scope`) and goes with it. A face belongs to at most one
user (`faces.user_id`). Each write is one transaction committed before the method returns, with the check of its
`RequestToken` and the record of its answer inside it, so a retried request is either answered from the record or
done once. The SQL is written once for both databases (`?` placeholders, standard statements, ON CONFLICT).

What Rekognition calls the user's reasons and statuses is the operations' business: the store reports what it
found (`Refusal`) and how many faces a user has.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from reko.store.collections import EMBEDDING_SIZE, SCOPED, CollectionNotFoundError, Database

if TYPE_CHECKING:
    from reko.store import Scope

# How long a request token is remembered. Rekognition documents no lifetime; a day covers every SDK retry (boto3's
# standard mode gives up within seconds) and a client resending after an outage, while expired rows are purged by
# the next token write, so the table stays about one day of writes long.
REQUEST_TOKEN_LIFETIME_S = 24 * 3600


class UserExistsError(Exception):
    """A user of that id already exists in the collection."""


class UserNotFoundError(Exception):
    """The collection has no user of that id."""


class TooManyUserFacesError(Exception):
    """An association would leave the user with more faces than its limit; nothing was written."""


class TokenReusedError(Exception):
    """A request token came back with other parameters than the request that first used it; nothing was written."""


@dataclass(frozen=True)
class RequestToken:
    """A client's idempotency token for one write, and a fingerprint of the rest of the request."""

    operation: str
    token: str
    fingerprint: str


@dataclass(frozen=True)
class User:
    user_id: str
    face_count: int  # faces associated with the user


class Refusal(enum.Enum):
    """Why a face was not associated with (or disassociated from) a user."""

    NOT_FOUND = "not_found"  # the collection has no such face
    OTHER_USER = "other_user"  # the face belongs to another user of the collection
    LOW_MATCH = "low_match"  # the face is too unlike the user's faces


@dataclass(frozen=True)
class RefusedFace:
    face_id: str
    refusal: Refusal
    user_id: str | None = None  # OTHER_USER: the user the face belongs to
    cosine: float | None = None  # LOW_MATCH: the face's highest cosine to the user's faces


@dataclass(frozen=True)
class FaceChange:
    """What AssociateFaces or DisassociateFaces did to a user."""

    changed: tuple[str, ...]  # face ids associated (disassociated), in request order
    refused: tuple[RefusedFace, ...]
    face_count: int  # the user's faces after the call

    def to_json(self) -> str:
        refused = [[face.face_id, face.refusal.value, face.user_id, face.cosine] for face in self.refused]
        return json.dumps({"changed": list(self.changed), "refused": refused, "face_count": self.face_count})

    @classmethod
    def from_json(cls, text: str) -> FaceChange:
        stored = json.loads(text)
        refused = tuple(
            RefusedFace(face_id, Refusal(refusal), user_id, cosine)
            for face_id, refusal, user_id, cosine in stored["refused"]
        )
        return cls(tuple(stored["changed"]), refused, int(stored["face_count"]))


USER_SCOPED = f"{SCOPED} AND user_id = ?"
COLLECTION_EXISTS = f"SELECT 1 FROM collections WHERE {SCOPED}"


class UserStore:
    """Typed reads and writes of users and their faces over a `Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, scope: Scope, collection_id: str, user_id: str, token: RequestToken | None) -> None:
        with self.database.transaction() as connection:
            if _replayed(connection, scope, token) is not None:
                return
            _require_collection(connection, scope, collection_id)
            created = connection.execute(
                "INSERT INTO users (account_id, region, collection_id, user_id, created_at_s) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (account_id, region, collection_id, user_id) DO NOTHING",
                (scope.account_id, scope.region, collection_id, user_id, time.time()),
            ).rowcount
            if created == 0:
                raise UserExistsError(user_id)
            _remember(connection, scope, collection_id, token, "")

    def delete(self, scope: Scope, collection_id: str, user_id: str, token: RequestToken | None) -> None:
        """Delete a user; its faces stay in the collection, associated with no one."""
        with self.database.transaction() as connection:
            if _replayed(connection, scope, token) is not None:
                return
            _require_collection(connection, scope, collection_id)
            key = (scope.account_id, scope.region, collection_id, user_id)
            if connection.execute(f"DELETE FROM users WHERE {USER_SCOPED}", key).rowcount == 0:
                raise UserNotFoundError(user_id)
            connection.execute(f"UPDATE faces SET user_id = NULL WHERE {USER_SCOPED}", key)
            _remember(connection, scope, collection_id, token, "")

    def require(self, scope: Scope, collection_id: str, user_id: str) -> User:
        """The user with its face count; UserNotFoundError (CollectionNotFoundError) when it (its collection) is
        absent."""
        users = self.list_users(scope, collection_id, None, 1, user_id)
        if not users:
            raise UserNotFoundError(user_id)
        return users[0]

    def list_users(
        self, scope: Scope, collection_id: str, after: str | None, limit: int, only: str | None = None
    ) -> list[User]:
        """Up to `limit` users whose ids sort after `after`, in id order, with their face counts; only `only`
        when given."""
        self._require_collection(scope, collection_id)
        query = (
            "SELECT u.user_id, COUNT(f.face_id) FROM users u LEFT JOIN faces f "
            "ON f.account_id = u.account_id AND f.region = u.region AND f.collection_id = u.collection_id "
            "AND f.user_id = u.user_id "
            "WHERE u.account_id = ? AND u.region = ? AND u.collection_id = ? AND u.user_id > ?"
        )
        parameters: list[object] = [scope.account_id, scope.region, collection_id, after or ""]
        if only is not None:
            query += " AND u.user_id = ?"
            parameters.append(only)
        rows = self.database.read(query + " GROUP BY u.user_id ORDER BY u.user_id LIMIT ?", [*parameters, limit])
        return [User(str(user_id), int(count)) for user_id, count in rows]

    def count(self, scope: Scope, collection_id: str) -> int:
        """How many users the collection has."""
        [(count,)] = self.database.read(
            f"SELECT COUNT(*) FROM users WHERE {SCOPED}", (scope.account_id, scope.region, collection_id)
        )
        return int(count)

    def associate(
        self,
        scope: Scope,
        collection_id: str,
        user_id: str,
        face_ids: Sequence[str],
        min_cosine: float,
        max_faces: int,
        token: RequestToken | None,
    ) -> FaceChange:
        """Associate faces with a user, all in one transaction.

        A face already the user's is left out of the answer; one of another user, or not in the collection, is
        refused. When the user already has faces, a new face must reach `min_cosine` with at least one of them
        (the faces it had before this call); else it is refused with its highest cosine. TooManyUserFacesError,
        with nothing written, when the user would end with more than `max_faces`.
        """
        with self.database.transaction() as connection:
            replayed = _replayed(connection, scope, token)
            if replayed is not None:
                return FaceChange.from_json(replayed)
            _require_user(connection, scope, collection_id, user_id)
            own_ids, own_vectors = self._faces_of(connection, scope, collection_id, user_id)
            found = self._faces(connection, scope, collection_id, face_ids)
            accepted: list[str] = []
            refused: list[RefusedFace] = []
            for face_id in dict.fromkeys(face_ids):
                if face_id not in found:
                    refused.append(RefusedFace(face_id, Refusal.NOT_FOUND))
                    continue
                owner, vector = found[face_id]
                if owner == user_id:
                    continue
                if owner is not None:
                    refused.append(RefusedFace(face_id, Refusal.OTHER_USER, user_id=owner))
                    continue
                best = float(np.max(own_vectors @ vector)) if len(own_ids) else None
                if best is not None and best < min_cosine:
                    refused.append(RefusedFace(face_id, Refusal.LOW_MATCH, cosine=best))
                    continue
                accepted.append(face_id)
            if len(own_ids) + len(accepted) > max_faces:
                raise TooManyUserFacesError(user_id)
            for face_id in accepted:
                connection.execute(
                    f"UPDATE faces SET user_id = ? WHERE {SCOPED} AND face_id = ?",
                    (user_id, scope.account_id, scope.region, collection_id, face_id),
                )
            change = FaceChange(tuple(accepted), tuple(refused), len(own_ids) + len(accepted))
            _remember(connection, scope, collection_id, token, change.to_json())
        return change

    def disassociate(
        self, scope: Scope, collection_id: str, user_id: str, face_ids: Sequence[str], token: RequestToken | None
    ) -> FaceChange:
        """Take faces from a user. A face of no user is left out of the answer; one of another user, or not in the
        collection, is refused."""
        with self.database.transaction() as connection:
            replayed = _replayed(connection, scope, token)
            if replayed is not None:
                return FaceChange.from_json(replayed)
            _require_user(connection, scope, collection_id, user_id)
            own_ids, _ = self._faces_of(connection, scope, collection_id, user_id)
            found = self._faces(connection, scope, collection_id, face_ids)
            taken: list[str] = []
            refused: list[RefusedFace] = []
            for face_id in dict.fromkeys(face_ids):
                owner = found[face_id][0] if face_id in found else None
                if face_id not in found:
                    refused.append(RefusedFace(face_id, Refusal.NOT_FOUND))
                elif owner == user_id:
                    taken.append(face_id)
                elif owner is not None:
                    refused.append(RefusedFace(face_id, Refusal.OTHER_USER, user_id=owner))
            for face_id in taken:
                connection.execute(
                    f"UPDATE faces SET user_id = NULL WHERE {SCOPED} AND face_id = ?",
                    (scope.account_id, scope.region, collection_id, face_id),
                )
            change = FaceChange(tuple(taken), tuple(refused), len(own_ids) - len(taken))
            _remember(connection, scope, collection_id, token, change.to_json())
        return change

    def user_vectors(self, scope: Scope, collection_id: str, user_id: str) -> np.ndarray:
        """(n, 128) vectors of the user's faces (n may be 0); UserNotFoundError when there is no such user."""
        self.require(scope, collection_id, user_id)
        rows = self.database.read(
            f"SELECT embedding FROM faces WHERE {USER_SCOPED} ORDER BY face_id",
            (scope.account_id, scope.region, collection_id, user_id),
        )
        return self.database.embedding_vectors([row[0] for row in rows], EMBEDDING_SIZE)

    def nearest_users(
        self, scope: Scope, collection_id: str, queries: np.ndarray, count: int, exclude_user_id: str | None = None
    ) -> list[tuple[User, float]]:
        """The `count` users nearest any of `queries`, with their cosine, most similar first.

        A user's cosine is the highest cosine between a query and any face associated with the user; users without
        faces never match. Exact: it reads the vector of every associated face of the collection on each call, so
        its cost grows with the associated faces, not with the users. SQLite, random vectors, 2 cores under a load
        of ~6 (`python -m scripts.measure_user_search`, median of 7, three runs): 1-6 ms at 1k associated faces,
        60-195 ms at 10k, 390-515 ms at 100k, most of it fetching and joining the rows' blobs.

        Args:
            queries: (q, 128) unit vectors (one face, or every face of a searched user).
        """
        self._require_collection(scope, collection_id)
        rows = self.database.read(
            f"SELECT user_id, embedding FROM faces WHERE {SCOPED} AND user_id IS NOT NULL ORDER BY user_id",
            (scope.account_id, scope.region, collection_id),
        )
        if not rows or count <= 0 or len(queries) == 0:
            return []
        vectors = self.database.embedding_vectors([row[1] for row in rows], EMBEDDING_SIZE)
        cosines = (vectors @ np.asarray(queries, np.float32).reshape(-1, EMBEDDING_SIZE).T).max(axis=1)
        # rows come ordered by user: each user's faces are one run, reduced to its best cosine
        owners = np.array([row[0] for row in rows], dtype=object)
        starts = np.flatnonzero(np.concatenate([[True], owners[1:] != owners[:-1]]))
        best = np.maximum.reduceat(cosines, starts)
        face_counts = np.diff(np.append(starts, len(owners)))
        ranked: list[tuple[User, float]] = []
        for run in np.argsort(-best, kind="stable"):
            user_id = str(owners[starts[run]])
            if user_id != exclude_user_id:
                ranked.append((User(user_id, int(face_counts[run])), float(best[run])))
            if len(ranked) == count:
                break
        return ranked

    def _require_collection(self, scope: Scope, collection_id: str) -> None:
        if not self.database.read(COLLECTION_EXISTS, (scope.account_id, scope.region, collection_id)):
            raise CollectionNotFoundError(collection_id)

    def _faces_of(
        self, connection: Any, scope: Scope, collection_id: str, user_id: str
    ) -> tuple[list[str], np.ndarray]:
        """The ids and (n, 128) vectors of the user's faces, read inside a write transaction."""
        rows = connection.execute(
            f"SELECT face_id, embedding FROM faces WHERE {USER_SCOPED}",
            (scope.account_id, scope.region, collection_id, user_id),
        ).fetchall()
        vectors = self.database.embedding_vectors([row[1] for row in rows], EMBEDDING_SIZE)
        return [str(row[0]) for row in rows], vectors

    def _faces(
        self, connection: Any, scope: Scope, collection_id: str, face_ids: Sequence[str]
    ) -> dict[str, tuple[str | None, np.ndarray]]:
        """face id -> (its user or None, its vector), for those of `face_ids` the collection holds."""
        wanted = list(dict.fromkeys(face_ids))
        if not wanted:
            return {}
        rows = connection.execute(
            f"SELECT face_id, user_id, embedding FROM faces WHERE {SCOPED} "
            f"AND face_id IN ({', '.join('?' * len(wanted))})",
            (scope.account_id, scope.region, collection_id, *wanted),
        ).fetchall()
        vectors = self.database.embedding_vectors([row[2] for row in rows], EMBEDDING_SIZE)
        return {
            str(row[0]): (None if row[1] is None else str(row[1]), vector)
            for row, vector in zip(rows, vectors, strict=True)
        }


def _require_collection(connection: Any, scope: Scope, collection_id: str) -> None:
    """CollectionNotFoundError unless the collection exists, read inside a write transaction."""
    if not connection.execute(COLLECTION_EXISTS, (scope.account_id, scope.region, collection_id)).fetchall():
        raise CollectionNotFoundError(collection_id)


def _require_user(connection: Any, scope: Scope, collection_id: str, user_id: str) -> None:
    _require_collection(connection, scope, collection_id)
    rows = connection.execute(
        f"SELECT 1 FROM users WHERE {USER_SCOPED}", (scope.account_id, scope.region, collection_id, user_id)
    ).fetchall()
    if not rows:
        raise UserNotFoundError(user_id)


TOKEN_KEY = "account_id = ? AND region = ? AND operation = ? AND token = ?"


def _replayed(connection: Any, scope: Scope, token: RequestToken | None) -> str | None:
    """The recorded answer to a live token with the same fingerprint; None for a new (or expired) token."""
    if token is None:
        return None
    rows = connection.execute(
        f"SELECT fingerprint, answer FROM request_tokens WHERE {TOKEN_KEY} AND created_at_s >= ?",
        (scope.account_id, scope.region, token.operation, token.token, time.time() - REQUEST_TOKEN_LIFETIME_S),
    ).fetchall()
    if not rows:
        return None
    fingerprint, answer = rows[0]
    if fingerprint != token.fingerprint:
        raise TokenReusedError(token.token)
    return str(answer)


def _remember(connection: Any, scope: Scope, collection_id: str, token: RequestToken | None, answer: str) -> None:
    """Record a token's answer in the write's own transaction, replacing an expired record of it, and purge the
    expired ones."""
    if token is None:
        return
    now = time.time()
    connection.execute("DELETE FROM request_tokens WHERE created_at_s < ?", (now - REQUEST_TOKEN_LIFETIME_S,))
    connection.execute(
        "INSERT INTO request_tokens "
        "(account_id, region, operation, token, collection_id, fingerprint, answer, created_at_s) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (scope.account_id, scope.region, token.operation, token.token, collection_id, token.fingerprint, answer, now),
    )
