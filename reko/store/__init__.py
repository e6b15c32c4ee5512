"""State behind one interface, keyed by (account, region): the only package that touches a database or a bucket.

It holds the S3 objects images are read from, the database schema, the face collections and their users; Custom
Labels projects land here as their operations are built, each keyed by `Scope` so one account never sees
another's resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reko.store.collections import CollectionStore
from reko.store.memory_search import MemoryFaceSearch
from reko.store.objects import EndpointBuckets, FolderBuckets, ObjectReader
from reko.store.sqlite import SqliteDatabase
from reko.store.users import UserStore
from reko.store.vector_index import EXACT_SEARCH_MAX_FACES


@dataclass(frozen=True)
class Scope:
    """Whose resources a request may see: Rekognition resources live in one account and one region."""

    account_id: str
    region: str


class Store:
    """Everything persistent: the database and the buckets `S3Object` images come from.

    Args:
        database_path: the SQLite file (created, with its schema, on first use).
        buckets_dir: folder buckets (`<dir>/<bucket>/<key>`), used when no endpoint is given.
        s3_endpoint: an S3-compatible endpoint to read objects from instead.
        index_dir: where the embedded backend keeps snapshots of its search indexes.
        exact_search_max_faces: the collection size above which the embedded backend builds an HNSW graph.
    """

    def __init__(
        self, database_path: Path, buckets_dir: Path, s3_endpoint: str | None = None, index_dir: Path | None = None,
        exact_search_max_faces: int | None = None,
    ) -> None:
        self.database = SqliteDatabase(database_path)
        search = MemoryFaceSearch(self.database, index_dir, exact_search_max_faces or EXACT_SEARCH_MAX_FACES)
        self.collections = CollectionStore(self.database, search)
        self.users = UserStore(self.database)
        self.objects: ObjectReader = EndpointBuckets(s3_endpoint) if s3_endpoint else FolderBuckets(buckets_dir)

    def close(self) -> None:
        self.collections.search_index.close()
        self.database.close()
