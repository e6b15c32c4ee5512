"""Face search for the embedded backend: each collection's vectors in a `FaceVectorIndex` in this process.

SQLite stays the source of truth; the indexes are derived from it and kept current by the store's write hooks
(after each commit) and by `PRAGMA data_version`, which moves when another connection — the `reko` command line
indexing into the same data folder while the server runs — commits to the file: then every index is brought up to
date with `reconcile` on its next search (the seqs it lacks added, those gone removed). Every hit is read back from
the table by the store, so a face deleted meanwhile never comes back.

Collections past `EXACT_SEARCH_MAX_FACES` are searched with a quantized scan, built on a background thread while
searches stay exact. Nothing is written beside the database: each start reads a collection's vectors from the
table on its first search (1M faces: 5.9 s to the first answer, the scan ready ~4 s later), so a crash at any
point, a build included, leaves nothing to repair.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from reko.store.collections import EMBEDDING_SIZE, SCOPED
from reko.store.vector_index import EXACT_SEARCH_MAX_FACES, FaceVectorIndex, reconcile

if TYPE_CHECKING:
    from reko.store import Scope
    from reko.store.sqlite import SqliteDatabase

log = logging.getLogger("reko.store.search")


class MemoryFaceSearch:
    """`FaceSearch` over vectors held in this process, one index per collection, loaded on first search.

    Args:
        database: the SQLite database the faces live in.
        exact_max_faces: the collection size above which a quantized scan is built.
    """

    def __init__(self, database: SqliteDatabase, exact_max_faces: int = EXACT_SEARCH_MAX_FACES) -> None:
        self.database = database
        self.exact_max_faces = exact_max_faces
        self._lock = threading.Lock()  # the dict of indexes and loads; each index has its own lock for searches
        self._indexes: dict[tuple[Scope, str], FaceVectorIndex] = {}
        self._stale: set[tuple[Scope, str]] = set()  # indexes another connection's commit may have outdated
        self._data_version = database.data_version()

    def nearest(self, scope: Scope, collection_id: str, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        return self._index(scope, collection_id).search(query, count)

    def _index(self, scope: Scope, collection_id: str) -> FaceVectorIndex:
        key = (scope, collection_id)
        with self._lock:
            version = self.database.data_version()
            if version != self._data_version:
                self._stale.update(self._indexes)
                self._data_version = version
            index = self._indexes.get(key)
            if index is None:
                index = self._load(scope, collection_id)
                self._indexes[key] = index
            elif key in self._stale:
                reconcile(index, self._seqs(scope, collection_id), self._fetcher(scope, collection_id))
            self._stale.discard(key)
            return index

    def _load(self, scope: Scope, collection_id: str) -> FaceVectorIndex:
        """The collection's index, from every vector of the table."""
        started = time.perf_counter()
        index = FaceVectorIndex(self.exact_max_faces, run_build=self._in_background(collection_id))
        rows = self.database.read(
            f"SELECT seq, embedding FROM faces WHERE {SCOPED} ORDER BY seq",
            (scope.account_id, scope.region, collection_id),
        )
        if rows:  # one add: past the limit, one build of everything, in the background
            keys = np.fromiter((row[0] for row in rows), np.int64, len(rows))
            index.add(keys, self.database.embedding_vectors([row[1] for row in rows], EMBEDDING_SIZE))
        log.info("collection %s: %d faces loaded in %.2f s", collection_id, len(index), time.perf_counter() - started)
        return index

    @staticmethod
    def _in_background(collection_id: str) -> Callable[[Callable[[], None]], None]:
        """Runs an index's scan build on a daemon thread of its own: a stopping server does not wait for it."""

        def run_build(build: Callable[[], None]) -> None:
            def timed_build() -> None:
                started = time.perf_counter()
                build()
                log.info("collection %s: scan built in %.1f s", collection_id, time.perf_counter() - started)

            threading.Thread(target=timed_build, name="reko-index-build", daemon=True).start()

        return run_build

    def _seqs(self, scope: Scope, collection_id: str) -> np.ndarray:
        rows = self.database.read(
            f"SELECT seq FROM faces WHERE {SCOPED} ORDER BY seq", (scope.account_id, scope.region, collection_id)
        )
        return np.fromiter((row[0] for row in rows), np.int64, len(rows))

    def _fetcher(self, scope: Scope, collection_id: str) -> Callable[[np.ndarray], np.ndarray]:
        def fetch(seqs: np.ndarray) -> np.ndarray:
            rows = self.database.read(
                f"SELECT seq, embedding FROM faces WHERE {SCOPED} AND seq IN ({', '.join('?' * len(seqs))})",
                [scope.account_id, scope.region, collection_id, *(int(seq) for seq in seqs)],
            )
            by_seq = {int(row[0]): row[1] for row in rows}
            return self.database.embedding_vectors([by_seq[int(seq)] for seq in seqs], EMBEDDING_SIZE)

        return fetch

    def prepare(self, connection: Any, scope: Scope, collection_id: str) -> None:
        """Nothing to prepare: a collection's vectors are loaded on its first search."""

    def discard(self, connection: Any, scope: Scope, collection_id: str) -> None:
        with self._lock:
            self._indexes.pop((scope, collection_id), None)

    def faces_added(self, scope: Scope, collection_id: str, seqs: Sequence[int], vectors: np.ndarray) -> None:
        key = (scope, collection_id)
        with self._lock:
            index = self._indexes.get(key)
            if index is None:
                return  # loaded from the table on its first search
            keys = np.asarray(seqs, np.int64)
            fresh = ~index.holds(keys)  # a load racing this write may have read them already
            if fresh.any():
                index.add(keys[fresh], np.asarray(vectors, np.float32)[fresh])

    def faces_removed(self, scope: Scope, collection_id: str, seqs: Sequence[int]) -> None:
        key = (scope, collection_id)
        with self._lock:
            index = self._indexes.get(key)
            if index is not None and len(seqs):
                index.remove(np.asarray(seqs, np.int64))

    def close(self) -> None:
        """Nothing to write: the indexes are rebuilt from the table at the next start."""
