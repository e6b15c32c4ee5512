"""Face collection search index (`reko.store.vector_index`): build, search, recall, snapshot and reconcile.

The collection: every LFW photo (../shared/data/faces/lfw) that is the first of its person, embedded by the real
pipeline (SFace; the face nearest the image centre), then random unit vectors up to the size, all at shuffled
positions and keyed by seq 1..n. The queries: every other photo of a person indexed that way (739 probes), so the
true match is an indexed photo. Recall@1 is against exact search over the same vectors (the target is >= 0.99);
`rank1` is the share of probes whose top match is their own person, for scale.

Each row is one index kind at one size: `exact` (NumPy) and Reko's `quantized scan` (faiss PQ fast scan + exact
re-rank, reko/store/quantized_scan.py) above `SCAN_MIN_FACES`; `--peers` adds usearch HNSW (for each
`expansion_search`) and faiss IndexFlatIP at the largest size. Columns: `build_s` (one `add` of every face; for
exact a copy) and its CPU seconds, search p50/p95 in ms with BLAS on 1 thread and on its default (all cores, as the
server runs it; the scan and the graph search on one thread either way), and `reconcile_s`: bring the index up
to date after another process's 10,000 adds and 1,000 deletes (vectors fetched from memory: no database read).

The LFW vectors are cached in bench/results/cache (keyed by the embedder's hash: delete the file after changing
detection or alignment). `python -m bench --only collections` runs 10k and 100k; `python -m bench.collections
--sizes 10000,100000,1000000` adds 1M (the scan builds in ~4 s; a usearch graph of `--peers` in ~19 min on 2 cores).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from bench import report
from bench.datasets import DATA_DIR
from reko.store.vector_index import FaceVectorIndex, reconcile
from reko.vision.catalog import spec

CACHE_DIR = report.RESULTS_DIR / "cache"
DEFAULT_SIZES = (10_000, 100_000)
EXPANSION_SEARCH_SWEEP = (128, 256, 512, 1024)
SCAN_MIN_FACES = 100_000  # smaller collections get no scan row: exact search is a few ms there
NO_LIMIT_FACES = 1 << 62  # keeps an index exact, even after the reconcile's adds
TIMED_QUERIES = 300  # probes timed per row (recall uses all of them)
WARM_UP_QUERIES = 20
RECONCILE_ADDS, RECONCILE_DELETES = 10_000, 1_000
FILLER_SEED = 20261130
# "isotropic": uniform on the sphere. "face-like": drawn from a Gaussian with the mean and covariance of every LFW
# vector, then normalised: SFace vectors sit in a cone (their mean has norm 0.32), so isotropic fillers leave the
# real faces an island the graph must find its way into, which a collection made only of faces does not have.
FILLER_KINDS = ("isotropic", "face-like")

Rows = list[dict[str, object]]


@dataclass(frozen=True)
class LfwVectors:
    """gallery: (g, 128) first photo of each person; probes: (p, 128) their other photos; probe_owner: (p,) row of
    the probe's person in gallery."""

    gallery: np.ndarray
    probes: np.ndarray
    probe_owner: np.ndarray
    every_face: np.ndarray  # (m, 128) every LFW vector, for face-like fillers


@dataclass(frozen=True)
class Collection:
    keys: np.ndarray  # (n,) int64 seqs 1..n
    vectors: np.ndarray  # (n, 128) float32 unit
    gallery_keys: np.ndarray  # (g,) the seq each LFW gallery photo got


def lfw_vectors(data_dir: Path = DATA_DIR) -> LfwVectors:
    """The LFW gallery and probes, embedded once and cached."""
    embedder = spec("face-embedder")
    cache = CACHE_DIR / f"lfw-sface-{embedder.sha256[:12]}-r{embedder.prepare_revision}.npz"
    if not cache.is_file():
        from bench.face_compare import load_lfw, reko_faces  # the models load only when the cache is missing

        lfw = load_lfw(data_dir)
        faces = reko_faces(lfw)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        np.savez(cache, embeddings=faces.embeddings, found=faces.found, people=lfw.people)
    saved = np.load(cache)
    by_person: dict[str, list[int]] = defaultdict(list)
    for index in np.flatnonzero(saved["found"]):
        by_person[str(saved["people"][index])].append(int(index))
    photos = list(by_person.values())
    probes = [(owner, image) for owner, images in enumerate(photos) for image in images[1:]]
    embeddings = saved["embeddings"].astype(np.float32)
    return LfwVectors(
        gallery=embeddings[[images[0] for images in photos]],
        probes=embeddings[[image for _, image in probes]],
        probe_owner=np.array([owner for owner, _ in probes]),
        every_face=embeddings[saved["found"]],
    )


def make_collection(size: int, lfw: LfwVectors, fillers: str = "isotropic") -> Collection:
    """The gallery plus random unit vectors of a `FILLER_KINDS` kind, shuffled; the same for a size on every run."""
    rng = np.random.default_rng(FILLER_SEED)
    noise = rng.standard_normal((size - len(lfw.gallery), 128), dtype=np.float32)
    if fillers == "face-like":
        covariance = np.cov(lfw.every_face, rowvar=False) + 1e-6 * np.eye(128)
        noise = noise @ np.linalg.cholesky(covariance).T.astype(np.float32) + lfw.every_face.mean(axis=0)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    order = rng.permutation(size)
    vectors = np.empty((size, 128), np.float32)
    vectors[order] = np.vstack([lfw.gallery, noise])
    return Collection(np.arange(1, size + 1, dtype=np.int64), vectors, order[: len(lfw.gallery)] + 1)


def exact_top1(vectors: np.ndarray, queries: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Row of the most similar vector for each query (chunked: 64 queries x 1M faces is 256 MB)."""
    starts = range(0, len(queries), chunk)
    return np.concatenate([np.argmax(queries[start : start + chunk] @ vectors.T, axis=1) for start in starts])


def timed_search(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Top-1 key of every query, and the latency in ms of the first TIMED_QUERIES after a warm-up."""
    for query in queries[:WARM_UP_QUERIES]:
        search(query)
    top, latencies = [], []
    for number, query in enumerate(queries):
        started = time.perf_counter()
        top.append(search(query)[0])
        if number < TIMED_QUERIES:
            latencies.append(1000 * (time.perf_counter() - started))
    return np.array(top), latencies


def search_row(search: Callable[[np.ndarray], np.ndarray], collection: Collection, lfw: LfwVectors,
               truth: np.ndarray) -> dict[str, object]:
    """Recall@1 against exact, rank-1 against the person, and latencies on 1 thread and on the default."""
    with threadpool_limits(1):
        top, one_thread = timed_search(search, lfw.probes)
    _, default_threads = timed_search(search, lfw.probes[:TIMED_QUERIES])
    return {
        "recall1": round(float(np.mean(top == collection.keys[truth])), 4),
        "rank1": round(float(np.mean(top == collection.gallery_keys[lfw.probe_owner])), 4),
        "p50_ms_1t": round(float(np.percentile(one_thread, 50)), 2),
        "p95_ms_1t": round(float(np.percentile(one_thread, 95)), 2),
        "p50_ms": round(float(np.percentile(default_threads, 50)), 2),
        "p95_ms": round(float(np.percentile(default_threads, 95)), 2),
    }


def built_index(collection: Collection, scan: bool) -> tuple[FaceVectorIndex, tuple[float, float]]:
    """The index and its build's (wall, CPU) seconds.

    CPU seconds (every thread of the process) say what the build costs when other jobs share the cores.
    """
    index = FaceVectorIndex(0 if scan else NO_LIMIT_FACES)
    started, started_cpu = time.perf_counter(), time.process_time()
    index.add(collection.keys, collection.vectors)
    return index, (time.perf_counter() - started, time.process_time() - started_cpu)


def reconcile_s(index: FaceVectorIndex, collection: Collection) -> float:
    """Seconds to bring the index up to date after another process's 10,000 adds and 1,000 deletes."""
    size = len(collection.keys)
    rng = np.random.default_rng(FILLER_SEED + 1)
    added = rng.standard_normal((RECONCILE_ADDS, 128), dtype=np.float32)
    added /= np.linalg.norm(added, axis=1, keepdims=True)
    deleted = rng.choice(collection.keys, RECONCILE_DELETES, replace=False)
    now = np.concatenate([np.setdiff1d(collection.keys, deleted), np.arange(size + 1, size + 1 + RECONCILE_ADDS)])
    started = time.perf_counter()
    counts = reconcile(index, now, lambda seqs: added[seqs - size - 1])
    assert counts == (RECONCILE_ADDS, RECONCILE_DELETES)
    return time.perf_counter() - started


def measure_size(size: int, lfw: LfwVectors, fillers: str = "isotropic") -> Rows:
    collection = make_collection(size, lfw, fillers)
    truth = exact_top1(collection.vectors, lfw.probes)
    rows: Rows = []
    for scan in (False, True) if size >= SCAN_MIN_FACES else (False,):
        index, (build_s, build_cpu_s) = built_index(collection, scan)

        def search(query: np.ndarray, index: FaceVectorIndex = index) -> np.ndarray:
            return index.search(query, 1)[0]

        row: dict[str, object] = {
            "faces": size, "fillers": fillers, "index": "quantized scan (Reko)" if scan else "exact (NumPy)",
            "expansion_search": None, "build_s": round(build_s, 1),
            "build_cpu_s": round(build_cpu_s, 1),
        }
        row |= search_row(search, collection, lfw, truth)
        row["reconcile_s"] = round(reconcile_s(index, collection), 2)  # after the searches: it changes the index
        rows.append(row)
        print(report.markdown(rows[-1:]), flush=True)
        del index  # the next kind's copy of the vectors replaces this one
    return rows


def peer_rows(size: int, lfw: LfwVectors, fillers: str) -> Rows:
    """usearch HNSW (M 16, expansion_add 64, f16: the parameters Reko tried first) and faiss IndexFlatIP (exact)."""
    import faiss
    from usearch.index import Index

    collection = make_collection(size, lfw, fillers)
    truth = exact_top1(collection.vectors, lfw.probes)
    rows: Rows = []
    flat = faiss.IndexFlatIP(128)
    started = time.perf_counter()
    flat.add(collection.vectors)
    flat_s = time.perf_counter() - started
    graph = Index(ndim=128, metric="ip", dtype="f16", connectivity=16, expansion_add=64)
    started = time.perf_counter()
    graph.add(collection.keys, collection.vectors)
    graph_s = time.perf_counter() - started

    def flat_search(query: np.ndarray) -> np.ndarray:
        return collection.keys[flat.search(query[None], 1)[1][0]]

    rows.append({"faces": size, "fillers": fillers, "index": "faiss IndexFlatIP", "expansion_search": None,
                 "build_s": round(flat_s, 1)} | search_row(flat_search, collection, lfw, truth))
    for expansion in EXPANSION_SEARCH_SWEEP:
        graph.expansion_search = expansion  # type: ignore[misc]

        def graph_search(query: np.ndarray) -> np.ndarray:
            return np.asarray(graph.search(query, 1, threads=1).keys, np.int64)

        rows.append({"faces": size, "fillers": fillers, "index": "usearch HNSW M16", "expansion_search": expansion,
                     "build_s": round(graph_s, 1)} | search_row(graph_search, collection, lfw, truth))
        print(report.markdown(rows[-1:]), flush=True)
    return rows


def run(data_dir: Path, sizes: tuple[int, ...] = DEFAULT_SIZES, with_peers: bool = False,
        fillers: str = "isotropic") -> Rows:
    lfw = lfw_vectors(data_dir)
    rows = [row for size in sizes for row in measure_size(size, lfw, fillers)]
    if with_peers:
        rows += peer_rows(max(sizes), lfw, fillers)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated face counts")
    parser.add_argument("--peers", action="store_true", help="add usearch HNSW and faiss flat at the largest size")
    parser.add_argument("--fillers", choices=FILLER_KINDS, default="isotropic")
    arguments = parser.parse_args()
    sizes = tuple(int(size) for size in arguments.sizes.split(","))
    rows = run(arguments.data_dir, sizes, arguments.peers, arguments.fillers)
    print(report.markdown(rows))
    name = "_".join(["collections", *map(str, sizes), arguments.fillers.replace("-", "_")])
    print(f"saved {report.save(name, rows)}")


if __name__ == "__main__":
    main()
