"""Custom Labels projects and their datasets (entries kept as Ground Truth JSON lines), in SQLite or PostgreSQL.

Keyed by `Scope` like the collections, written once in portable SQL. A project has at most one TRAIN and one TEST
dataset; each dataset write (create, update, distribute, delete) is one transaction, so a dataset is either
whole or absent. Model versions and the training queue are `reko.store.model_versions`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reko.store.collections import Database
from reko.store.manifests import DatasetEntry, parse_entry

if TYPE_CHECKING:
    from reko.store import Scope


class ProjectExistsError(Exception):
    pass


class ProjectNotFoundError(Exception):
    pass


class ProjectInUseError(Exception):
    """The project still has model versions."""


class DatasetExistsError(Exception):
    pass


class DatasetNotFoundError(Exception):
    pass


class DatasetNotEmptyError(Exception):
    """DistributeDatasetEntries wants an empty test dataset."""


@dataclass(frozen=True)
class Project:
    name: str
    arn: str
    created_at_s: float
    feature: str
    auto_update: str | None


@dataclass(frozen=True)
class Dataset:
    project_name: str
    dataset_type: str  # TRAIN | TEST
    arn: str
    created_at_s: float
    updated_at_s: float
    status: str


@dataclass(frozen=True)
class DatasetStats:
    total_entries: int
    labeled_entries: int
    total_labels: int


@dataclass(frozen=True)
class LabelStats:
    label: str
    entry_count: int
    box_count: int


PROJECT_KEY = "account_id = ? AND region = ? AND project_name = ?"
DATASET_KEY = f"{PROJECT_KEY} AND dataset_type = ?"
PROJECT_COLUMNS = "project_name, arn, created_at_s, feature, auto_update"
DATASET_COLUMNS = "project_name, dataset_type, arn, created_at_s, updated_at_s, status"
# Share of a training dataset DistributeDatasetEntries moves to the test dataset (Rekognition moves 20 %).
TEST_SHARE = 0.2


class CustomLabelsStore:
    """Typed reads and writes of projects, datasets and entries over a `Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create_project(self, scope: Scope, project: Project) -> None:
        with self.database.transaction() as connection:
            created = connection.execute(
                f"INSERT INTO projects (account_id, region, {PROJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (account_id, region, project_name) DO NOTHING",
                (scope.account_id, scope.region, project.name, project.arn, project.created_at_s, project.feature,
                 project.auto_update),
            ).rowcount
            if created == 0:
                raise ProjectExistsError(project.name)

    def projects(self, scope: Scope, after: str | None, limit: int, names: Sequence[str] | None) -> list[Project]:
        """Up to `limit` projects whose names sort after `after`, in name order; only `names` when given."""
        query = f"SELECT {PROJECT_COLUMNS} FROM projects WHERE account_id = ? AND region = ? AND project_name > ?"
        parameters: list[object] = [scope.account_id, scope.region, after or ""]
        if names is not None:
            query += f" AND project_name IN ({', '.join('?' * len(names))})"
            parameters.extend(names)
        rows = self.database.read(query + " ORDER BY project_name LIMIT ?", [*parameters, limit])
        return [Project(str(r[0]), str(r[1]), float(r[2]), str(r[3]), r[4]) for r in rows]

    def project_by_arn(self, scope: Scope, arn: str) -> Project:
        rows = self.database.read(
            f"SELECT {PROJECT_COLUMNS} FROM projects WHERE account_id = ? AND region = ? AND arn = ?",
            (scope.account_id, scope.region, arn),
        )
        if not rows:
            raise ProjectNotFoundError(arn)
        r = rows[0]
        return Project(str(r[0]), str(r[1]), float(r[2]), str(r[3]), r[4])

    def delete_project(self, scope: Scope, arn: str) -> None:
        """Delete a project with its datasets; ProjectInUseError while it has versions."""
        with self.database.transaction() as connection:
            rows = connection.execute(
                "SELECT project_name FROM projects WHERE account_id = ? AND region = ? AND arn = ?" + _lock(self),
                (scope.account_id, scope.region, arn),
            ).fetchall()
            if not rows:
                raise ProjectNotFoundError(arn)
            key = (scope.account_id, scope.region, rows[0][0])
            if connection.execute(f"SELECT 1 FROM project_versions WHERE {PROJECT_KEY}", key).fetchall():
                raise ProjectInUseError(arn)
            connection.execute(f"DELETE FROM projects WHERE {PROJECT_KEY}", key)

    def create_dataset(self, scope: Scope, dataset: Dataset, entries: Sequence[DatasetEntry]) -> None:
        """A dataset and all its entries in one transaction."""
        with self.database.transaction() as connection:
            key = (scope.account_id, scope.region, dataset.project_name)
            if not connection.execute(f"SELECT 1 FROM projects WHERE {PROJECT_KEY}" + _lock(self), key).fetchall():
                raise ProjectNotFoundError(dataset.project_name)
            created = connection.execute(
                f"INSERT INTO datasets (account_id, region, {DATASET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (account_id, region, project_name, dataset_type) DO NOTHING",
                (*key, dataset.dataset_type, dataset.arn, dataset.created_at_s, dataset.updated_at_s, dataset.status),
            ).rowcount
            if created == 0:
                raise DatasetExistsError(dataset.dataset_type)
            _put_entries(connection, scope, dataset.project_name, dataset.dataset_type, entries)

    def datasets(self, scope: Scope, project_name: str) -> list[Dataset]:
        rows = self.database.read(
            f"SELECT {DATASET_COLUMNS} FROM datasets WHERE {PROJECT_KEY} ORDER BY dataset_type DESC",
            (scope.account_id, scope.region, project_name),
        )
        return [_dataset(row) for row in rows]

    def dataset_by_arn(self, scope: Scope, arn: str) -> Dataset:
        rows = self.database.read(
            f"SELECT {DATASET_COLUMNS} FROM datasets WHERE account_id = ? AND region = ? AND arn = ?",
            (scope.account_id, scope.region, arn),
        )
        if not rows:
            raise DatasetNotFoundError(arn)
        return _dataset(rows[0])

    def delete_dataset(self, scope: Scope, arn: str) -> None:
        with self.database.transaction() as connection:
            deleted = connection.execute(
                "DELETE FROM datasets WHERE account_id = ? AND region = ? AND arn = ?",
                (scope.account_id, scope.region, arn),
            ).rowcount
            if deleted == 0:
                raise DatasetNotFoundError(arn)

    def update_entries(self, scope: Scope, arn: str, entries: Sequence[DatasetEntry]) -> None:
        """Add entries, replacing those of the same source-ref, in one transaction."""
        with self.database.transaction() as connection:
            dataset = self._locked_dataset(connection, scope, arn)
            _put_entries(connection, scope, dataset.project_name, dataset.dataset_type, entries)
            connection.execute(
                f"UPDATE datasets SET updated_at_s = ?, status = ? WHERE {DATASET_KEY}",
                (time.time(), "UPDATE_COMPLETE", scope.account_id, scope.region, dataset.project_name,
                 dataset.dataset_type),
            )

    def distribute(self, scope: Scope, train_arn: str, test_arn: str) -> None:
        """Move about `TEST_SHARE` of the training entries (chosen by a hash of their source-ref, so the split is
        the same on every run) to the empty test dataset of the same project."""
        with self.database.transaction() as connection:
            train = self._locked_dataset(connection, scope, train_arn)
            test = self._locked_dataset(connection, scope, test_arn)
            test_key = (scope.account_id, scope.region, test.project_name, test.dataset_type)
            if connection.execute(f"SELECT 1 FROM dataset_entries WHERE {DATASET_KEY}", test_key).fetchall():
                raise DatasetNotEmptyError(test_arn)
            train_key = (scope.account_id, scope.region, train.project_name, train.dataset_type)
            rows = connection.execute(
                f"SELECT source_ref FROM dataset_entries WHERE {DATASET_KEY} ORDER BY source_ref", train_key
            ).fetchall()
            ranked = sorted((str(row[0]) for row in rows), key=_stable_rank)
            moving = ranked[: round(len(ranked) * TEST_SHARE)]
            for source_ref in moving:
                connection.execute(
                    f"UPDATE dataset_entries SET dataset_type = ? WHERE {DATASET_KEY} AND source_ref = ?",
                    (test.dataset_type, *train_key, source_ref),
                )
            now = time.time()
            for dataset in (train, test):
                connection.execute(
                    f"UPDATE datasets SET updated_at_s = ?, status = ? WHERE {DATASET_KEY}",
                    (now, "UPDATE_COMPLETE", scope.account_id, scope.region, dataset.project_name,
                     dataset.dataset_type),
                )

    def entries(
        self, scope: Scope, project_name: str, dataset_type: str, after: str | None = None, limit: int | None = None
    ) -> list[DatasetEntry]:
        """Entries in source-ref order, after `after`, at most `limit` (all when None)."""
        query = (
            f"SELECT entry FROM dataset_entries WHERE {DATASET_KEY} AND source_ref > ? ORDER BY source_ref"
        )
        parameters: list[object] = [scope.account_id, scope.region, project_name, dataset_type, after or ""]
        if limit is not None:
            query += " LIMIT ?"
            parameters.append(limit)
        return [parse_entry(str(row[0])) for row in self.database.read(query, parameters)]

    def stats(self, scope: Scope, project_name: str, dataset_type: str) -> tuple[DatasetStats, list[LabelStats]]:
        """Counts of DescribeDataset and ListDatasetLabels, from the stored label columns."""
        rows = self.database.read(
            f"SELECT labels, box_count FROM dataset_entries WHERE {DATASET_KEY}",
            (scope.account_id, scope.region, project_name, dataset_type),
        )
        entry_counts: dict[str, int] = {}
        labeled = 0
        for labels_json, _ in rows:
            labels = json.loads(labels_json)
            labeled += bool(labels)
            for label in labels:
                entry_counts[label] = entry_counts.get(label, 0) + 1
        box_counts = self._box_counts(scope, project_name, dataset_type) if any(row[1] for row in rows) else {}
        labels = [LabelStats(label, entry_counts[label], box_counts.get(label, 0)) for label in sorted(entry_counts)]
        return DatasetStats(len(rows), labeled, len(entry_counts)), labels

    def _box_counts(self, scope: Scope, project_name: str, dataset_type: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries(scope, project_name, dataset_type):
            for box in entry.boxes:
                counts[box.label] = counts.get(box.label, 0) + 1
        return counts

    def _locked_dataset(self, connection: Any, scope: Scope, arn: str) -> Dataset:
        rows = connection.execute(
            f"SELECT {DATASET_COLUMNS} FROM datasets WHERE account_id = ? AND region = ? AND arn = ?" + _lock(self),
            (scope.account_id, scope.region, arn),
        ).fetchall()
        if not rows:
            raise DatasetNotFoundError(arn)
        return _dataset(rows[0])


def _lock(store: CustomLabelsStore) -> str:
    return store.database.row_lock


def _dataset(row: tuple) -> Dataset:
    return Dataset(str(row[0]), str(row[1]), str(row[2]), float(row[3]), float(row[4]), str(row[5]))


def _stable_rank(source_ref: str) -> bytes:
    return hashlib.sha256(source_ref.encode()).digest()


def _put_entries(
    connection: Any, scope: Scope, project_name: str, dataset_type: str, entries: Sequence[DatasetEntry]
) -> None:
    for entry in entries:
        connection.execute(
            "INSERT INTO dataset_entries "
            "(account_id, region, project_name, dataset_type, source_ref, entry, labels, box_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account_id, region, project_name, dataset_type, source_ref) "
            "DO UPDATE SET entry = excluded.entry, labels = excluded.labels, box_count = excluded.box_count",
            (scope.account_id, scope.region, project_name, dataset_type, entry.source_ref, entry.line,
             json.dumps(list(entry.labels)), len(entry.boxes)),
        )


def split_for_test(entries: Sequence[DatasetEntry]) -> tuple[list[DatasetEntry], list[DatasetEntry]]:
    """(train, test): `TEST_SHARE` of the entries, chosen by a hash of the source-ref as DistributeDatasetEntries
    chooses them, go to test."""
    chosen = {entry.source_ref for entry in sorted(entries, key=lambda e: _stable_rank(e.source_ref))[
        : round(len(entries) * TEST_SHARE)]}
    return ([entry for entry in entries if entry.source_ref not in chosen],
            [entry for entry in entries if entry.source_ref in chosen])
