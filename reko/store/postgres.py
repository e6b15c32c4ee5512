"""The scale-out database: PostgreSQL with pgvector, shared by every `reko serve` behind one load balancer.

Chosen with `--database-url` / `REKO_DATABASE_URL`. The collections' SQL is the same as SQLite's (`?` placeholders,
turned into psycopg's `%s` here); what is PostgreSQL's own is the vector column (`vector(128)`, pgvector) and the
per-collection HNSW indexes of `pgvector_search`. Migrations are the `NNNN_*.sql` files of `migrations/postgres/`,
each applied once in its own transaction under an advisory lock, so servers started together never apply one twice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg_pool import ConnectionPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "postgres"
# Requests run on the engine's worker threads (2 by default); a few more for the CLI and background work.
POOL_MAX_CONNECTIONS = 8
POOL_TIMEOUT_S = 30.0  # waiting longer than this for a free connection raises psycopg_pool.PoolTimeout
# Any fixed number: every Reko process takes this lock to migrate ("reko" in ASCII).
MIGRATION_LOCK_KEY = 0x72656B6F


class PostgresDatabase:
    """A pool of autocommit connections; `transaction()` lends one inside BEGIN … COMMIT.

    Args:
        url: a libpq URL or key=value string (`postgresql://user:password@host:5432/reko`).
        migrations_dir: where the migrations are (tests point it elsewhere).
    """

    # A write to a collection locks its row first (see CollectionStore._lock_collection). NO KEY UPDATE, not
    # UPDATE: the foreign-key checks of the faces inserted after it take KEY SHARE locks, which it lets through.
    row_lock = " FOR NO KEY UPDATE"
    # Claiming a queued job (reko.store.model_versions): rows another server is claiming are passed over, not
    # waited for, so several servers share one training queue.
    claim_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self, url: str, migrations_dir: Path | None = None, max_connections: int = POOL_MAX_CONNECTIONS
    ) -> None:
        self.url = url
        self.migrations_dir = migrations_dir or MIGRATIONS_DIR
        self.migrate()  # before the pool: its connections look up the `vector` type the first migration makes
        # `check`: a connection is tried (one round trip) as it is lent, so a PostgreSQL restart costs no failed
        # requests, only new connections.
        self.pool = ConnectionPool(
            url, min_size=1, max_size=max_connections, timeout=POOL_TIMEOUT_S, kwargs={"autocommit": True},
            configure=register_vector, check=ConnectionPool.check_connection, name="reko", open=True,
        )

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; returns their names."""
        return apply_migrations(self.url, self.migrations_dir)

    @contextmanager
    def transaction(self) -> Iterator[PostgresConnection]:
        """One transaction (READ COMMITTED), committed when the block ends, rolled back if it raises."""
        with self.pool.connection() as connection, connection.transaction():
            yield PostgresConnection(connection)

    def read(self, query: str, parameters: Sequence[object] = ()) -> list[tuple]:
        """The rows of one query, in a transaction of its own."""
        with self.pool.connection() as connection:
            return connection.execute(_placeholders(query), parameters).fetchall()

    @staticmethod
    def embedding_value(vector: np.ndarray) -> Vector:
        """A face vector as the `vector(128)` column takes it."""
        return Vector(np.asarray(vector, np.float32))

    @staticmethod
    def embedding_vectors(values: Sequence[object], size: int) -> np.ndarray:
        """Stored vectors back as one (n, size) float32 matrix."""
        rows = [np.asarray(value.to_numpy() if isinstance(value, Vector) else value, np.float32) for value in values]
        return np.stack(rows).reshape(-1, size) if rows else np.empty((0, size), np.float32)

    def applied_migrations(self) -> list[str]:
        return [str(row[0]) for row in self.read("SELECT name FROM schema_migrations ORDER BY name")]

    def close(self) -> None:
        self.pool.close()


class PostgresConnection:
    """The connection a transaction lends: runs the store's `?` SQL, and composed SQL (`psycopg.sql`) as it is."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, query: str | sql.Composed, parameters: Sequence[object] = (), **options: Any) -> psycopg.Cursor:
        statement = _placeholders(query) if isinstance(query, str) else query
        return self.connection.execute(statement, parameters, **options)


@functools.lru_cache(maxsize=512)
def _placeholders(query: str) -> str:
    """`?` → `%s`, and a literal `%` doubled, as psycopg wants. The store's SQL has no `?` inside strings."""
    return query.replace("%", "%%").replace("?", "%s")


def redacted_url(url: str) -> str:
    """The URL with its password hidden, for logs: `postgresql://reko:***@db:5432/reko`."""
    url = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", url, flags=re.IGNORECASE)


def apply_migrations(url: str, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations of `folder` not yet recorded in the database of `url`; returns their names.

    Each runs in its own transaction holding `pg_advisory_xact_lock`: a server starting at the same moment waits,
    then finds the migration recorded and skips it.
    """
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as connection:
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        for name, script in _migrations(folder):
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                if connection.execute("SELECT 1 FROM schema_migrations WHERE name = %s", (name,)).fetchone():
                    continue
                connection.execute(script.encode())  # several statements: the simple query protocol
                connection.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            applied_now.append(name)
    return applied_now


def _migrations(folder: Path) -> list[tuple[str, str]]:
    files = sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [(path.stem, path.read_text()) for path in files]
