"""Face search on PostgreSQL: each collection's vectors in an HNSW index of pgvector, searched in the database.

One partial index per collection (`WHERE account_id = … AND region = … AND collection_id = …`), made in the
transaction that creates the collection and dropped in the one that deletes it. One global index filtered by
collection gave recall@1 0.52 at 1M faces (HNSW walks through other collections' vectors and the filter drops
them). The planner can use a partial index only when the query's own predicate implies the index's at plan time, so
both predicates are written as SQL literals: a prepared statement's generic plan, with the collection as bound
parameters, never uses the index (tests/store/test_postgres.py checks both plans with EXPLAIN).

Nothing lives in this process, so every server behind a load balancer searches the same, current vectors, and
`faces_added`/`faces_removed` have nothing to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg import sql

if TYPE_CHECKING:
    from reko.store import Scope
    from reko.store.postgres import PostgresConnection, PostgresDatabase

# Links per node and candidates per insertion. LFW faces among random fillers (bench/collections_postgres.py), 100k
# faces, 2 shared cores (load 9-14): pgvector's defaults (m 16, ef_construction 64) reached recall@1 0.953 at
# ef_search 100 (6.8 ms) and 0.996 at 400 (33 ms); m 32 with ef_construction 128 reached 0.995 at 100 (20 ms) and
# 1.0 at 200: the same recall for about half the search time. Its build takes 2.6x as long (243 s against 94 s
# for 100k planted vectors, load 5-9; here 508 s at load 15 against 90 s at load 9); the inserts of IndexFaces were
# not timed. An IVFFlat index (100 lists) was worse: 0.90 at 16 probes (13 ms), 0.97 at 32 (26 ms), see README.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 128
# Candidates kept while walking the graph, for each search (pgvector's default is 40), by the collection's size: the
# width a graph needs grows with it. m 32, LFW faces among random fillers, recall@1 at ef_search 40 / 100 / 200 /
# 400 (bench/collections_postgres.py, p50 at load 5-13): 10k 0.999 / 1.0 (4 ms) / - / -, 100k 0.965 / 0.995 (20
# ms) / 1.0 (40 ms) / 1.0 (85 ms), 300k 0.850 / 0.962 / 0.992 (22 ms) / 1.0 (32 ms); 1M (planted random vectors,
# idle) 0.90 at 400 (43 ms), 0.985 at 1000 (105 ms). Each step is the width that reached 1.0 at the next size
# measured below it. (at most this many faces, ef_search)
EF_SEARCH_BY_FACES = ((30_000, 100), (150_000, 200), (500_000, 400))
MAX_EF_SEARCH = 1000  # pgvector refuses more; bigger collections get this, a larger MaxFaces the iterative scan


class PgvectorFaceSearch:
    """`FaceSearch` in PostgreSQL: an HNSW partial index per collection over the inner product of unit vectors.

    Args:
        database: the PostgreSQL database the faces are in.
        ef_search: candidates per search (at least the number of faces asked for); None: by the collection's size,
            as `ef_search_by_faces` says, with MAX_EF_SEARCH beyond its last step.
        m, ef_construction: the graph's links per node and candidates per insertion, for the indexes it makes.
        ef_search_by_faces: (at most this many faces, ef_search) steps, in increasing order.
    """

    def __init__(
        self, database: PostgresDatabase, ef_search: int | None = None, m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search_by_faces: tuple[tuple[int, int], ...] = EF_SEARCH_BY_FACES,
    ) -> None:
        self.database = database
        self.ef_search = ef_search
        self.m = m
        self.ef_construction = ef_construction
        self.ef_search_by_faces = ef_search_by_faces

    def nearest(self, scope: Scope, collection_id: str, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        if count <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        vector = self.database.embedding_value(query)
        with self.database.transaction() as connection:
            self.configure(connection, count, scope, collection_id)
            rows = connection.execute(nearest_statement(scope, collection_id, count), (vector,)).fetchall()
        seqs = np.array([row[0] for row in rows], np.int64)
        cosines = -np.array([row[1] for row in rows], np.float32)  # `<#>` is the negative inner product
        return seqs, cosines

    def configure(self, connection: PostgresConnection, count: int, scope: Scope, collection_id: str) -> int:
        """Set this transaction's search width and return it: never fewer candidates than the faces asked for.

        By size, the collection's size is its index's `reltuples` in the catalogue (no count of the rows): ANALYZE
        sets it, which autovacuum runs as the table changes, so it lags a growing collection by up to a tenth of
        the table; a never-analysed index (-1) gets the widest search. The iterative scan (pgvector ≥ 0.8) goes on
        past `ef_search` when more rows are needed — more than 1000 faces asked for, or rows deleted since the last
        VACUUM skipped — keeping the order exact.
        """
        width: sql.Composable = sql.Literal(self.ef_search)
        if self.ef_search is None:
            steps = sql.SQL(" ").join(
                sql.SQL("WHEN faces BETWEEN 0 AND {} THEN {}").format(sql.Literal(most), sql.Literal(ef_search))
                for most, ef_search in self.ef_search_by_faces
            )
            width = sql.SQL(
                "(SELECT CASE {} ELSE {} END FROM (SELECT COALESCE(MAX(reltuples), -1) AS faces FROM pg_class "
                "WHERE relname = {}) AS sized)"
            ).format(steps, sql.Literal(MAX_EF_SEARCH), sql.Literal(index_name(scope, collection_id)))
        [row] = connection.execute(
            sql.SQL(
                "SELECT set_config('hnsw.ef_search', LEAST(GREATEST({}, {}), {})::text, true), "
                "set_config('hnsw.iterative_scan', 'strict_order', true)"
            ).format(width, sql.Literal(count), sql.Literal(MAX_EF_SEARCH))
        ).fetchall()
        return int(row[0])

    def prepare(self, connection: Any, scope: Scope, collection_id: str) -> None:
        """Make the collection's empty index; each IndexFaces then adds its faces to the graph as it inserts them."""
        connection.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON faces USING hnsw (embedding vector_ip_ops) "
                "WITH (m = {}, ef_construction = {}) WHERE {}"
            ).format(
                sql.Identifier(index_name(scope, collection_id)), sql.Literal(self.m),
                sql.Literal(self.ef_construction), collection_predicate(scope, collection_id),
            )
        )

    def discard(self, connection: Any, scope: Scope, collection_id: str) -> None:
        connection.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(index_name(scope, collection_id))))

    def faces_added(self, scope: Scope, collection_id: str, seqs: Sequence[int], vectors: np.ndarray) -> None:
        """Nothing to do: the rows' index entries were written with them."""

    def faces_removed(self, scope: Scope, collection_id: str, seqs: Sequence[int]) -> None:
        """Nothing to do: the index skips deleted rows (VACUUM removes them from the graph)."""

    def close(self) -> None:
        """Nothing to write: the indexes live in PostgreSQL."""


def index_name(scope: Scope, collection_id: str) -> str:
    """The collection's index name: a digest, as a collection id (≤ 255 characters) outgrows PostgreSQL's 63."""
    key = "\x00".join((scope.account_id, scope.region, collection_id)).encode()
    return "faces_hnsw_" + hashlib.sha256(key).hexdigest()[:32]


def collection_predicate(scope: Scope, collection_id: str) -> sql.Composed:
    """The collection's rows, as literals: the same text in the index and in the query, so the planner matches it."""
    return sql.SQL("account_id = {} AND region = {} AND collection_id = {}").format(
        sql.Literal(scope.account_id), sql.Literal(scope.region), sql.Literal(collection_id)
    )


def nearest_statement(scope: Scope, collection_id: str, count: int) -> sql.Composed:
    """The `count` faces nearest the one parameter (a vector), by inner product, through the collection's index."""
    return sql.SQL("SELECT seq, embedding <#> %s AS distance FROM faces WHERE {} ORDER BY distance LIMIT {}").format(
        collection_predicate(scope, collection_id), sql.Literal(count)
    )
