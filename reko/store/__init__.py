"""State behind one interface, keyed by (account, region): the only package that touches a database or a bucket.

It holds the S3 objects images are read from, the database schema, the face collections and their users, and
Custom Labels projects, datasets, model versions and their training queue, each keyed by `Scope` so one account
never sees another's resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reko.store.collections import CollectionStore, FaceSearch
from reko.store.custom_labels import CustomLabelsStore
from reko.store.memory_search import MemoryFaceSearch
from reko.store.model_versions import ModelVersionStore
from reko.store.objects import EndpointBuckets, FolderBuckets, ObjectReader
from reko.store.pgvector_search import PgvectorFaceSearch
from reko.store.postgres import PostgresDatabase
from reko.store.sqlite import SqliteDatabase
from reko.store.users import UserStore
from reko.store.vector_index import EXACT_SEARCH_MAX_FACES

if TYPE_CHECKING:
    from reko.config import Settings


@dataclass(frozen=True)
class Scope:
    """Whose resources a request may see: Rekognition resources live in one account and one region."""

    account_id: str
    region: str


class Store:
    """Everything persistent: the database and the buckets `S3Object` images come from.

    Args:
        database_path: the SQLite file (created, with its schema, on first use) when no `database_url` is given.
        buckets_dir: folder buckets (`<dir>/<bucket>/<key>`), used when no endpoint is given.
        s3_endpoint: an S3-compatible endpoint to read objects from instead.
        database_url: a PostgreSQL database (with pgvector) to keep the state in, shared by several servers.
        exact_search_max_faces: the collection size above which the embedded backend builds a quantized scan.
    """

    def __init__(
        self, database_path: Path, buckets_dir: Path, s3_endpoint: str | None = None, database_url: str | None = None,
        exact_search_max_faces: int | None = None,
    ) -> None:
        self.database: SqliteDatabase | PostgresDatabase
        search: FaceSearch
        if database_url:
            self.database = PostgresDatabase(database_url)
            search = PgvectorFaceSearch(self.database)
        else:
            self.database = SqliteDatabase(database_path)
            search = MemoryFaceSearch(self.database, exact_search_max_faces or EXACT_SEARCH_MAX_FACES)
        self.collections = CollectionStore(self.database, search)
        self.users = UserStore(self.database)
        self.custom_labels = CustomLabelsStore(self.database)
        self.model_versions = ModelVersionStore(self.database)
        self.objects: ObjectReader = EndpointBuckets(s3_endpoint) if s3_endpoint else FolderBuckets(buckets_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store a server with these settings keeps its state in."""
        return cls(
            settings.database_path, settings.s3_dir, settings.s3_endpoint, settings.database_url,
            settings.exact_search_max_faces,
        )

    def close(self) -> None:
        self.collections.search_index.close()
        self.database.close()
