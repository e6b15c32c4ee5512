"""The face vectors of one collection, keyed by the faces' `seq`: exact search while small, a quantized scan above.

Up to `EXACT_SEARCH_MAX_FACES` faces a search is exact: one NumPy matrix-vector product and a partial sort, nothing
missed and nothing to keep consistent. Past that the vectors move into a `QuantizedScan` (faiss PQ fast scan over
every face, then an exact re-rank; see reko/store/quantized_scan.py): 1.8 ms at 1M faces with recall@1 0.997 where
a usearch HNSW graph reached 0.69–0.98 after 19–38 minute builds (bench/collections.py; README). The scan stays
once built, even if the collection shrinks back.

The database stays the source of truth: an index is built from it at start (no snapshot: at 1M faces loading one
took longer than reading the table and building the scan again, 8.6 s against 5.9 s to the first answer), and
`reconcile` brings an index up to date with the seqs the database holds when another process has written to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from reko.store.quantized_scan import QuantizedScan

EMBEDDING_SIZE = 128  # SFace's vector length
BuildRunner = Callable[[Callable[[], None]], None]  # runs a scan build: now, or on a background thread
EXACT_SEARCH_MAX_FACES = 100_000  # NumPy exact: ~8 ms a query at 100k on 2 cores, ~80 ms at 1M
RECONCILE_BATCH_FACES = 10_000  # vectors fetched from the database per call of `fetch`



class FaceVectorIndex:
    """Cosine search over the unit vectors of one collection, keyed by int64 `seq`.

    Thread safety: one lock guards every read and write. A search holds it for milliseconds (exact at the limit, the
    scan at 1M) and an IndexFaces call adds at most 100 faces, so a reader waits at most about one search; the one
    long job, building the scan when the collection grows past the exact limit, runs outside the lock on arrays
    that are never changed in place, while searches stay exact and later writes are queued and replayed.

    Args:
        exact_max_faces: the size above which searches go to the quantized scan (tests pass a small one).
        run_build: runs the scan's build (default: at once, in the adding thread; the store passes a background one).
    """

    def __init__(self, exact_max_faces: int = EXACT_SEARCH_MAX_FACES, run_build: BuildRunner | None = None) -> None:
        self.exact_max_faces = exact_max_faces
        self.run_build: BuildRunner = run_build or _call_now
        self._lock = threading.Lock()
        # Exact mode: rows [0, _size) of these arrays; rows are only ever appended, never rewritten, so a builder
        # may read a prefix while writers go on (a removal swaps in new arrays).
        self._keys = np.empty(0, np.int64)
        self._vectors = np.empty((0, EMBEDDING_SIZE), np.float32)
        self._size = 0
        self._scan: QuantizedScan | None = None
        self._pending: list[tuple[np.ndarray, np.ndarray | None]] | None = None  # writes while the scan is built

    @property
    def uses_scan(self) -> bool:
        return self._scan is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._scan) if self._scan is not None else self._size

    def keys(self) -> np.ndarray:
        """(n,) int64, the keys held, ascending."""
        with self._lock:
            if self._scan is not None:
                keys = self._scan.keys.copy()
            else:
                keys = self._keys[: self._size].copy()
        keys.sort()
        return keys

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add faces: keys (n,) int64 not held yet, vectors (n, 128) float32 unit vectors."""
        keys, vectors = _checked(keys, vectors)
        with self._lock:
            if self._scan is not None:
                if np.any(self._scan.contains(keys)):
                    raise ValueError("some keys are already in the index")
                self._scan.add(keys, vectors)
                return
            if np.isin(keys, self._keys[: self._size]).any():
                raise ValueError("some keys are already in the index")
            self._append(keys, vectors)
            if self._pending is not None:
                self._pending.append((keys, vectors))
            build = self._pending is None and self._size > self.exact_max_faces
            if build:
                self._pending = []
                held_keys, held_vectors = self._keys[: self._size], self._vectors[: self._size]
        if build:
            self.run_build(lambda: self._build_scan(held_keys, held_vectors))

    def holds(self, keys: np.ndarray) -> np.ndarray:
        """(n,) bool: which of `keys` the index holds."""
        keys = np.asarray(keys, np.int64).reshape(-1)
        with self._lock:
            if self._scan is not None:
                return self._scan.contains(keys)
            return np.isin(keys, self._keys[: self._size])

    def remove(self, keys: np.ndarray) -> int:
        """Remove the faces of these keys (absent keys are ignored); returns how many were removed."""
        keys = np.unique(np.asarray(keys, np.int64).reshape(-1))
        with self._lock:
            if self._scan is not None:
                return self._scan.remove(keys)
            gone = np.isin(self._keys[: self._size], keys)
            removed = int(gone.sum())
            if removed:
                kept = ~gone
                self._keys, self._vectors = self._keys[: self._size][kept], self._vectors[: self._size][kept]
                self._size = len(self._keys)
                if self._pending is not None:
                    self._pending.append((keys, None))
            return removed

    def search(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The `count` nearest faces, best first: (keys int64, cosines float32), each (min(count, len),)."""
        query = np.asarray(query, np.float32).reshape(EMBEDDING_SIZE)
        with self._lock:
            if self._scan is not None:
                return self._scan.search(query, count)
            keys, vectors = self._keys[: self._size], self._vectors[: self._size]
            cosines = vectors @ query
        return _best(keys, cosines, count)

    def _append(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        end = self._size + len(keys)
        if end > len(self._keys):  # grow by doubling into new arrays: a builder may still read the old ones
            capacity = max(end, 2 * len(self._keys), 1024)
            grown_keys = np.empty(capacity, np.int64)
            grown_vectors = np.empty((capacity, EMBEDDING_SIZE), np.float32)
            grown_keys[: self._size] = self._keys[: self._size]
            grown_vectors[: self._size] = self._vectors[: self._size]
            self._keys, self._vectors = grown_keys, grown_vectors
        self._keys[self._size : end], self._vectors[self._size : end] = keys, vectors
        self._size = end

    def _build_scan(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Build the scan from a frozen prefix outside the lock, then replay the writes made meanwhile."""
        try:
            scan = QuantizedScan(vectors)
            scan.add(keys, vectors)
        except BaseException:
            with self._lock:
                self._pending = None  # stay exact; the next add past the limit tries again
            raise
        with self._lock:
            assert self._pending is not None
            for pending_keys, pending_vectors in self._pending:
                if pending_vectors is None:
                    scan.remove(pending_keys)
                else:
                    scan.add(pending_keys, pending_vectors)
            self._scan, self._pending = scan, None
            self._keys, self._vectors, self._size = np.empty(0, np.int64), np.empty((0, EMBEDDING_SIZE), np.float32), 0


def _call_now(build: Callable[[], None]) -> None:
    build()


def reconcile(
    index: FaceVectorIndex, seqs: np.ndarray, fetch: Callable[[np.ndarray], np.ndarray]
) -> tuple[int, int]:
    """Bring `index` up to date with the database: add the seqs it lacks, remove those the database lost.

    Args:
        index: the index to bring up to date (an empty one is filled from scratch).
        seqs: (n,) int64, ascending: every seq the collection holds now.
        fetch: vectors (k, 128) float32 of k seqs, in the order asked; called with at most RECONCILE_BATCH_FACES.

    Returns:
        (faces added, faces removed).
    """
    seqs = np.asarray(seqs, np.int64)
    held = index.keys()
    removed = index.remove(np.setdiff1d(held, seqs, assume_unique=True))
    missing = np.setdiff1d(seqs, held, assume_unique=True)
    for start in range(0, len(missing), RECONCILE_BATCH_FACES):
        batch = missing[start : start + RECONCILE_BATCH_FACES]
        index.add(batch, fetch(batch))
    return len(missing), removed


def _checked(keys: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.asarray(keys, np.int64).reshape(-1)
    vectors = np.ascontiguousarray(vectors, np.float32)
    if vectors.shape != (len(keys), EMBEDDING_SIZE):
        raise ValueError(f"vectors must be ({len(keys)}, {EMBEDDING_SIZE}), got {vectors.shape}")
    if len(np.unique(keys)) != len(keys):
        raise ValueError("keys repeat within one add")
    return keys, vectors


def _best(keys: np.ndarray, cosines: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The `count` highest cosines with their keys, highest first."""
    if count < len(cosines):
        top = np.argpartition(-cosines, count)[:count]
    else:
        top = np.arange(len(cosines))
    top = top[np.argsort(-cosines[top], kind="stable")]
    return keys[top].copy(), cosines[top].astype(np.float32)
