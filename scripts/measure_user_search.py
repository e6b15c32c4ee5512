"""What an exact user search costs: `UserStore.nearest_users` over a collection of associated faces, on SQLite.

The search reads the vector of every face associated with a user of the collection on each call (no index is kept
for users), so its cost grows with the associated faces. Random unit vectors, `FACES_PER_USER` faces a user, the
median of `REPEATS` calls after one warm-up, in a temporary data folder.

Run from the repository root: `.venv/bin/python -m scripts.measure_user_search` (~1 min on 2 cores).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from reko.store import Scope
from reko.store.collections import EMBEDDING_SIZE, CollectionStore, NewFace, StoredFace
from reko.store.memory_search import MemoryFaceSearch
from reko.store.sqlite import SqliteDatabase
from reko.store.users import UserStore

ASSOCIATED_FACES = (1_000, 10_000, 100_000)
FACES_PER_USER = 10
REPEATS = 7
BATCH_FACES = 5_000
SCOPE = Scope("000000000000", "us-east-1")


def fill(collections: CollectionStore, database: SqliteDatabase, name: str, count: int) -> None:
    """`count` faces in collection `name`, each associated with user `u<seq // FACES_PER_USER>`."""
    rng = np.random.default_rng(0)
    collections.create(SCOPE, name, f"arn:{name}", "v1", {})
    for start in range(0, count, BATCH_FACES):
        vectors = rng.standard_normal((min(BATCH_FACES, count - start), EMBEDDING_SIZE)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        faces = [
            NewFace(StoredFace(str(uuid.uuid4()), "image", None, (0.1, 0.1, 0.5, 0.5), 99.0), vector)
            for vector in vectors
        ]
        collections.add_faces(SCOPE, name, faces)
    with database.transaction() as connection:
        connection.execute(
            "UPDATE faces SET user_id = 'u' || CAST(seq / ? AS TEXT) WHERE collection_id = ?", (FACES_PER_USER, name)
        )
        connection.execute(
            "INSERT INTO users (account_id, region, collection_id, user_id, created_at_s) "
            "SELECT DISTINCT account_id, region, collection_id, user_id, 0 FROM faces WHERE collection_id = ?",
            (name,),
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = SqliteDatabase(Path(folder) / "reko.sqlite3")
        collections, users = CollectionStore(database, MemoryFaceSearch(database)), UserStore(database)
        query = np.random.default_rng(1).standard_normal((1, EMBEDDING_SIZE)).astype(np.float32)
        query /= np.linalg.norm(query)
        print(f"{'associated faces':>16} {'users':>7} {'median ms':>10}")
        for count in ASSOCIATED_FACES:
            name = f"c{count}"
            fill(collections, database, name, count)
            users.nearest_users(SCOPE, name, query, 500)
            times_ms = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                users.nearest_users(SCOPE, name, query, 500)
                times_ms.append(1000 * (time.perf_counter() - started))
            print(f"{count:>16} {count // FACES_PER_USER:>7} {statistics.median(times_ms):>10.1f}")
        database.close()


if __name__ == "__main__":
    main()
