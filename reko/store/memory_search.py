"""Face search for the embedded backend: each collection's vectors in a `FaceVectorIndex` in this process.

SQLite stays the source of truth; the indexes are derived from it and kept current by the store's write hooks
(after each commit) and by `PRAGMA data_version`, which moves when another connection — the `reko` command line
indexing into the same data folder while the server runs — commits to the file: then every index is brought up to
date with `reconcile` on its next search (the seqs it lacks added, those gone removed). Every hit is read back from
the table by the store, so a face deleted meanwhile never comes back.

Collections past `EXACT_SEARCH_MAX_FACES` search an HNSW graph. Building it takes minutes at a million faces, so
it is built on a background thread while searches stay exact, and written as a snapshot
(`<data-dir>/indexes/<collection key>.index`, atomic) when built and when the process stops cleanly. At start a
collection's index is loaded from its snapshot and reconciled with the table; a missing or damaged snapshot (a
kill -9 during a build, say) means the vectors are loaded from the table and the graph built again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
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
        snapshot_dir: where graph snapshots are written; None keeps none (every start rebuilds).
        exact_max_faces: the collection size above which an HNSW graph is built.
    """

    def __init__(
        self, database: SqliteDatabase, snapshot_dir: Path | None = None,
        exact_max_faces: int = EXACT_SEARCH_MAX_FACES,
    ) -> None:
        self.database = database
        self.snapshot_dir = snapshot_dir
        self.exact_max_faces = exact_max_faces
        self._lock = threading.Lock()  # the dict of indexes and loads; each index has its own lock for searches
        self._indexes: dict[tuple[Scope, str], FaceVectorIndex] = {}
        self._changed: set[tuple[Scope, str]] = set()  # graph indexes changed since their last snapshot
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
                self._changed.add(key)
            self._stale.discard(key)
            return index

    def _load(self, scope: Scope, collection_id: str) -> FaceVectorIndex:
        """The collection's index: its snapshot brought up to date, or every vector read from the table."""
        started = time.perf_counter()
        key = (scope, collection_id)
        run_build = self._background(key)
        path = self._snapshot_path(scope, collection_id)
        loaded = FaceVectorIndex.load(path, self.exact_max_faces, run_build) if path is not None else None
        if loaded is not None:
            index = loaded[0]
            added, removed = reconcile(index, self._seqs(scope, collection_id), self._fetcher(scope, collection_id))
            if added or removed:
                self._changed.add(key)
            how = f"snapshot + {added} added, {removed} removed"
        else:
            index = FaceVectorIndex(self.exact_max_faces, run_build=run_build)
            rows = self.database.read(
                f"SELECT seq, embedding FROM faces WHERE {SCOPED} ORDER BY seq",
                (scope.account_id, scope.region, collection_id),
            )
            if rows:  # one add: past the limit, one graph build of everything, in the background
                keys = np.fromiter((row[0] for row in rows), np.int64, len(rows))
                index.add(keys, self.database.embedding_vectors([row[1] for row in rows], EMBEDDING_SIZE))
            how = "table"
        log.info("collection %s: %d faces loaded from %s in %.2f s", collection_id, len(index), how,
                 time.perf_counter() - started)
        return index

    def _background(self, key: tuple[Scope, str]) -> Callable[[Callable[[], None]], None]:
        """Runs an index's graph build on a thread of its own, then snapshots the built graph.

        A daemon thread: a stopping server does not wait minutes for a build; the next start builds again.
        """

        def run_build(build: Callable[[], None]) -> None:
            def build_and_save() -> None:
                started = time.perf_counter()
                build()
                log.info("collection %s: graph built in %.1f s", key[1], time.perf_counter() - started)
                with self._lock:
                    self._changed.add(key)
                self._save(key)

            threading.Thread(target=build_and_save, name="reko-index-build", daemon=True).start()

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

    def _snapshot_path(self, scope: Scope, collection_id: str) -> Path | None:
        if self.snapshot_dir is None:
            return None
        name = hashlib.sha256(f"{scope.account_id}/{scope.region}/{collection_id}".encode()).hexdigest()[:32]
        return self.snapshot_dir / f"{name}.index"

    def _save(self, key: tuple[Scope, str]) -> None:
        """Snapshot a graph index that changed since its last snapshot (small exact ones reload fast)."""
        path = self._snapshot_path(*key)
        with self._lock:
            index = self._indexes.get(key)
            if path is None or index is None or not index.uses_scan or key not in self._changed:
                return
            self._changed.discard(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        size = index.save(path, int(index.keys()[-1]) if len(index) else 0)
        log.info("collection %s: snapshot of %d bytes in %.1f s", key[1], size, time.perf_counter() - started)

    def prepare(self, connection: Any, scope: Scope, collection_id: str) -> None:
        """Nothing to prepare: a collection's vectors are loaded on its first search."""

    def discard(self, connection: Any, scope: Scope, collection_id: str) -> None:
        with self._lock:
            self._indexes.pop((scope, collection_id), None)
            self._changed.discard((scope, collection_id))
        path = self._snapshot_path(scope, collection_id)
        if path is not None:
            path.unlink(missing_ok=True)

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
                self._changed.add(key)

    def faces_removed(self, scope: Scope, collection_id: str, seqs: Sequence[int]) -> None:
        key = (scope, collection_id)
        with self._lock:
            index = self._indexes.get(key)
            if index is not None and len(seqs):
                index.remove(np.asarray(seqs, np.int64))
                self._changed.add(key)

    def close(self) -> None:
        """Snapshot every graph changed since its last snapshot (a graph still being built is left)."""
        for key in list(self._indexes):
            self._save(key)
