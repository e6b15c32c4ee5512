"""The SQLite store: migrations apply once, in order, atomically, and survive a reopen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reko.store.sqlite import SqliteDatabase


def test_migrations_apply_in_order_once(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0002_b.sql").write_text("ALTER TABLE things ADD COLUMN colour TEXT;")
    (migrations / "0001_a.sql").write_text("CREATE TABLE things (id INTEGER PRIMARY KEY);")
    database = SqliteDatabase(tmp_path / "reko.sqlite3", migrations)
    assert database.applied_migrations() == ["0001_a", "0002_b"]
    database.close()
    reopened = SqliteDatabase(tmp_path / "reko.sqlite3", migrations)
    assert reopened.migrate() == []
    reopened.connection.execute("INSERT INTO things (colour) VALUES ('red')")


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_a.sql").write_text("CREATE TABLE things (id INTEGER PRIMARY KEY); CREATE TABLE oops (;")
    with pytest.raises(sqlite3.Error):
        SqliteDatabase(tmp_path / "reko.sqlite3", migrations)
    check = sqlite3.connect(tmp_path / "reko.sqlite3")
    tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "things" not in tables


def test_the_shipped_database_opens_in_wal_mode(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "reko.sqlite3")
    assert database.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_data_folder_of_the_previous_version_gains_the_collections_tables(tmp_path: Path) -> None:
    before = tmp_path / "no-migrations"
    before.mkdir()
    SqliteDatabase(tmp_path / "reko.sqlite3", before).close()  # what a Reko without migration 0001 left
    upgraded = SqliteDatabase(tmp_path / "reko.sqlite3")
    assert upgraded.applied_migrations()[0] == "0001_collections"
    tables = {row[0] for row in upgraded.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"collections", "collection_tags", "faces"} <= tables


def test_semicolons_in_comments_and_strings_do_not_split_statements(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_a.sql").write_text(
        "-- things; one row each\nCREATE TABLE things (id INTEGER PRIMARY KEY, note TEXT DEFAULT 'a;b');\n"
        "INSERT INTO things (id) VALUES (1); -- trailing; comment\n"
    )
    database = SqliteDatabase(tmp_path / "reko.sqlite3", migrations)
    assert database.connection.execute("SELECT note FROM things").fetchone()[0] == "a;b"


def test_the_face_counter_starts_after_the_faces_of_an_older_data_folder(tmp_path: Path) -> None:
    older = tmp_path / "older"
    older.mkdir()
    shipped = Path(__file__).resolve().parents[1] / "reko" / "store" / "migrations" / "sqlite"
    (older / "0001_collections.sql").write_text((shipped / "0001_collections.sql").read_text())
    database = SqliteDatabase(tmp_path / "reko.sqlite3", older)
    database.connection.execute("INSERT INTO collections VALUES ('1', 'r', 'c', 'arn', 0, 'v')")
    database.connection.execute(
        "INSERT INTO faces VALUES ('f', 7, '1', 'r', 'c', 'i', NULL, 0, 0, 1, 1, 99, x'00')"
    )
    database.close()
    upgraded = SqliteDatabase(tmp_path / "reko.sqlite3")
    assert upgraded.read("SELECT value FROM counters WHERE name = 'face_seq'") == [(7,)]
