"""The embedded default database: one SQLite file in the data folder, schema kept by numbered migrations.

WAL mode with `synchronous=FULL`: a write acknowledged to a client survives a crash of the process or machine.
Migrations are the `NNNN_*.sql` files of `migrations/`, applied in order, each in its own transaction, and
recorded in `schema_migrations`, so a data folder written by an older Reko is upgraded in place and never lost.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "sqlite"
EMBEDDING_DTYPE = np.dtype("<f4")  # vectors are stored as little-endian float32 blobs


class SqliteDatabase:
    """One connection shared by the process, serialised by a lock (SQLite writes are serial anyway)."""

    row_lock = ""  # BEGIN IMMEDIATE already holds the one write lock: rows read in a write transaction stay as read
    claim_lock = ""  # the same lock makes a queue claim exclusive (reko.store.model_versions)

    def __init__(self, path: Path, migrations_dir: Path | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.migrations_dir = migrations_dir or MIGRATIONS_DIR
        self.lock = threading.Lock()
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; returns their names."""
        applied_now: list[str] = []
        with self.lock:
            self.connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in self.connection.execute("SELECT name FROM schema_migrations")}
            for name, script in _migrations(self.migrations_dir):
                if name in done:
                    continue
                self.connection.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(script):
                        self.connection.execute(statement)
                    self.connection.execute(
                        "INSERT INTO schema_migrations (name, applied_at) VALUES (?, datetime('now'))", (name,)
                    )
                    self.connection.execute("COMMIT")
                except BaseException:
                    self.connection.execute("ROLLBACK")
                    raise
                applied_now.append(name)
        return applied_now

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed when the block ends, rolled back if it raises.

        `BEGIN IMMEDIATE` takes the write lock at once, so a read-then-write inside the block sees no other
        writer's changes in between.
        """
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def read(self, query: str, parameters: Sequence[object] = ()) -> list[tuple]:
        """The rows of one query, outside any write transaction."""
        with self.lock:
            return self.connection.execute(query, parameters).fetchall()

    def data_version(self) -> int:
        """A number that moves when another connection commits to the file (`PRAGMA data_version`)."""
        with self.lock:
            (version,) = self.connection.execute("PRAGMA data_version").fetchone()
        return int(version)

    @staticmethod
    def embedding_value(vector: np.ndarray) -> bytes:
        """A face vector as the database stores it."""
        return np.ascontiguousarray(vector, EMBEDDING_DTYPE).tobytes()

    @staticmethod
    def embedding_vectors(values: Sequence[object], size: int) -> np.ndarray:
        """Stored vectors back as one (n, size) float32 matrix."""
        joined = b"".join(bytes(value) for value in values)  # type: ignore[call-overload]
        return np.frombuffer(joined, EMBEDDING_DTYPE).reshape(-1, size).astype(np.float32)

    def applied_migrations(self) -> list[str]:
        with self.lock:
            return [row[0] for row in self.connection.execute("SELECT name FROM schema_migrations ORDER BY name")]

    def close(self) -> None:
        with self.lock:
            self.connection.close()


def _migrations(folder: Path) -> list[tuple[str, str]]:
    files = sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [(path.stem, path.read_text()) for path in files]


def _statements(script: str) -> list[str]:
    """The statements of a migration file, split where SQLite itself says a statement is complete.

    A plain split on ";" would break on a semicolon inside a comment or a string literal.
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in pending.splitlines()
    ):
        raise sqlite3.OperationalError(f"incomplete statement at the end of a migration: {pending.strip()[:80]!r}")
    return statements
