"""A scan of every face in 16 bytes a face, then an exact re-rank: search at a million faces in milliseconds.

faiss (MIT) `IndexPQFastScan`: each 128-d vector becomes 32 four-bit product-quantisation codes, and a search
compares the query with all of them using SIMD lookup tables; the best `RERANK_FACTOR` × count candidates (at least
`MIN_RERANK_CANDIDATES`) are then scored exactly on their float32 vectors (`IndexRefineFlat`). Nothing is skipped,
so unlike a graph (HNSW) its recall does not depend on how the vectors are spread. Measured 2026-11-30 on 2 idle
cores (`python -m bench.collections --sizes 1000000`): LFW probes among 1M faces (LFW plus random unit vectors),
recall@1 0.997 against exact search at 1.8 ms p50, built in 3.9 s; a usearch HNSW graph of the same collection took
19–38 min to build and reached 0.69–0.98; exact NumPy takes ~26 ms.

Faces are kept by `key` (the faces' `seq`). faiss numbers vectors by position, so removal marks a position dead;
searches ask for as many extra candidates as there are dead positions (up to `MAX_DEAD_MARGIN`, then they retry
wider), and when a quarter of the positions are dead the scan is rebuilt from the live vectors.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import faiss
import numpy as np

EMBEDDING_SIZE = 128
PQ_SUBQUANTIZERS = 32  # 32 codes of 4 bits: 16 bytes a face (m 64 was no better on recall, 6x slower to search)
PQ_BITS = 4  # FastScan's SIMD path needs 4-bit codes
RERANK_FACTOR = 32  # exact re-rank of 32 x count candidates, and at least MIN_RERANK_CANDIDATES
MIN_RERANK_CANDIDATES = 2048  # LFW probes among 1M random vectors: recall@1 0.973 with 32 candidates
TRAINING_FACES = 65_536  # codebooks are trained on at most this many faces (a fixed-seed sample)
MAX_DEAD_MARGIN = 1024  # extra candidates asked for because of removed faces, before a wider retry
REBUILD_DEAD_FRACTION = 0.25  # rebuild from the live vectors once this share of positions is dead

faiss.omp_set_num_threads(1)  # one thread a search: two were slower (16 ms against 1 ms p50) on 2 busy cores


class QuantizedScan:
    """Every face of a collection as PQ codes plus its float32 vector, searched by a full scan and a re-rank."""

    def __init__(self, training_vectors: np.ndarray) -> None:
        """Train the codebooks on (n, 128) float32 unit vectors (a sample of the faces to be added)."""
        self._index: Any = _new_index()  # faiss.IndexRefineFlat (faiss ships no type hints)
        self._index.train(_sample(training_vectors))
        self._keys = np.empty(0, np.int64)  # key of each faiss position
        self._alive = np.empty(0, bool)

    def __len__(self) -> int:
        return int(self._alive.sum())

    @property
    def keys(self) -> np.ndarray:
        """(n,) int64: the live keys, in position order."""
        return self._keys[self._alive]

    def contains(self, keys: np.ndarray) -> np.ndarray:
        return np.isin(np.asarray(keys, np.int64), self._keys[self._alive])

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add(np.ascontiguousarray(vectors, np.float32))
        self._keys = np.concatenate([self._keys, np.asarray(keys, np.int64)])
        self._alive = np.concatenate([self._alive, np.ones(len(keys), bool)])

    def remove(self, keys: np.ndarray) -> int:
        """Mark the keys' positions dead; returns how many live faces that removed."""
        gone = self._alive & np.isin(self._keys, np.asarray(keys, np.int64))
        self._alive &= ~gone
        if len(self._alive) and (~self._alive).mean() >= REBUILD_DEAD_FRACTION:
            self._rebuild()
        return int(gone.sum())

    def search(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The `count` live faces with the highest inner product, best first: (keys, cosines)."""
        live = len(self)
        count = min(count, live)
        if count <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        dead = len(self._alive) - live
        wanted = count + min(dead, MAX_DEAD_MARGIN)
        self._index.k_factor = max(RERANK_FACTOR, -(-MIN_RERANK_CANDIDATES // count))
        while True:
            scores, positions = self._index.search(np.asarray(query, np.float32).reshape(1, -1), wanted)
            valid = positions[0] >= 0
            found, found_scores = positions[0][valid], scores[0][valid]
            alive = self._alive[found]
            if alive.sum() >= count or wanted >= len(self._alive):
                break
            wanted = min(len(self._alive), wanted * 4)
        return self._keys[found[alive][:count]], found_scores[alive][:count].astype(np.float32)

    def to_bytes(self) -> bytes:
        """The whole scan (codebooks, codes, vectors, keys, live marks) as one byte string."""
        buffer = io.BytesIO()
        np.savez(buffer, index=faiss.serialize_index(self._index), keys=self._keys, alive=self._alive)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> QuantizedScan:
        """The scan `to_bytes` wrote; ValueError when the bytes are not one."""
        try:
            with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as parts:
                index = faiss.deserialize_index(parts["index"])
                keys, alive = parts["keys"].astype(np.int64), parts["alive"].astype(bool)
        except (OSError, KeyError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"not a quantized scan: {error}") from error
        if index.d != EMBEDDING_SIZE or index.ntotal != len(keys) or len(alive) != len(keys):
            raise ValueError("a quantized scan whose parts disagree")
        scan = cls.__new__(cls)
        scan._index, scan._keys, scan._alive = index, keys, alive
        return scan

    def _rebuild(self) -> None:
        """Drop the dead positions: retrain on the live vectors and add them again."""
        flat: Any = faiss.downcast_index(self._index.refine_index)  # the float32 vectors, in position order
        vectors = faiss.rev_swig_ptr(flat.get_xb(), self._index.ntotal * EMBEDDING_SIZE)
        vectors = vectors.reshape(-1, EMBEDDING_SIZE)[self._alive].copy()
        keys = self._keys[self._alive]
        self._index = _new_index()
        self._index.train(_sample(vectors))
        self._keys, self._alive = np.empty(0, np.int64), np.empty(0, bool)
        if len(keys):
            self.add(keys, vectors)


def _new_index() -> Any:
    fast_scan = faiss.IndexPQFastScan(EMBEDDING_SIZE, PQ_SUBQUANTIZERS, PQ_BITS, faiss.METRIC_INNER_PRODUCT)
    return faiss.IndexRefineFlat(fast_scan)  # faiss's Python layer keeps `fast_scan` referenced by the index


def _sample(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, np.float32)
    if len(vectors) <= TRAINING_FACES:
        return vectors
    chosen = np.random.default_rng(0).choice(len(vectors), TRAINING_FACES, replace=False)
    return vectors[np.sort(chosen)]
