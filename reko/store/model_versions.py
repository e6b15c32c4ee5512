"""Custom Labels model versions and the training queue, in SQLite or PostgreSQL.

CreateProjectVersion writes the version (TRAINING_IN_PROGRESS) and its queued job in one transaction, with the
training and test entries as they are at that moment. A worker of any server claims the oldest job nobody holds
(PostgreSQL: `FOR UPDATE SKIP LOCKED`, so servers never claim the same row), keeps a heartbeat on it while it
trains, and finishes it by deleting the job and writing the result in one transaction. A job whose heartbeat
went stale was left by a worker that died (kill -9, power): the next claim takes it over, so no version stays
TRAINING_IN_PROGRESS for ever.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reko.store.collections import Database
from reko.store.custom_labels import PROJECT_KEY, ProjectNotFoundError

if TYPE_CHECKING:
    from reko.store import Scope


class VersionExistsError(Exception):
    pass


class VersionNotFoundError(Exception):
    pass


class VersionStateError(Exception):
    """The version's status does not allow the change; `status` is what it is."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class ProjectVersion:
    project_name: str
    version_name: str
    arn: str
    created_at_s: float
    status: str
    status_message: str
    request: dict[str, Any]  # what CreateProjectVersion was given that the description repeats
    description: dict[str, Any]  # what training wrote: evaluation, results, timings
    progress_percent: float
    min_inference_units: int | None


@dataclass(frozen=True)
class TrainingJob:
    """A claimed job: whose version, and the data as it was queued."""

    account_id: str
    region: str
    project_name: str
    version_name: str
    entries: dict[str, list[str]]  # "TRAIN" / "TEST" → dataset entry JSON lines
    attempts: int  # claims so far, this one included


VERSION_KEY = f"{PROJECT_KEY} AND version_name = ?"
VERSION_COLUMNS = (
    "project_name, version_name, arn, created_at_s, status, status_message, request, description, progress_percent, "
    "min_inference_units"
)


class ModelVersionStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, scope: Scope, version: ProjectVersion, entries: dict[str, list[str]]) -> None:
        """The version and its queued training job, in one transaction."""
        key = (scope.account_id, scope.region, version.project_name)
        with self.database.transaction() as connection:
            if not connection.execute(
                f"SELECT 1 FROM projects WHERE {PROJECT_KEY}" + self.database.row_lock, key
            ).fetchall():
                raise ProjectNotFoundError(version.project_name)
            created = connection.execute(
                f"INSERT INTO project_versions (account_id, region, {VERSION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (account_id, region, project_name, version_name) DO NOTHING",
                (*key, version.version_name, version.arn, version.created_at_s, version.status,
                 version.status_message, json.dumps(version.request), json.dumps(version.description),
                 version.progress_percent, version.min_inference_units),
            ).rowcount
            if created == 0:
                raise VersionExistsError(version.version_name)
            connection.execute(
                "INSERT INTO training_jobs (account_id, region, project_name, version_name, queued_at_s, entries) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*key, version.version_name, time.time(), json.dumps(entries)),
            )

    def versions(
        self, scope: Scope, project_name: str, after: str | None, limit: int, names: Sequence[str] | None
    ) -> list[ProjectVersion]:
        """Up to `limit` versions of a project whose names sort after `after`; only `names` when given."""
        query = f"SELECT {VERSION_COLUMNS} FROM project_versions WHERE {PROJECT_KEY} AND version_name > ?"
        parameters: list[object] = [scope.account_id, scope.region, project_name, after or ""]
        if names is not None:
            query += f" AND version_name IN ({', '.join('?' * len(names))})"
            parameters.extend(names)
        rows = self.database.read(query + " ORDER BY version_name LIMIT ?", [*parameters, limit])
        return [_version(row) for row in rows]

    def by_arn(self, scope: Scope, arn: str) -> ProjectVersion:
        rows = self.database.read(
            f"SELECT {VERSION_COLUMNS} FROM project_versions WHERE account_id = ? AND region = ? AND arn = ?",
            (scope.account_id, scope.region, arn),
        )
        if not rows:
            raise VersionNotFoundError(arn)
        return _version(rows[0])

    def artefact(self, scope: Scope, arn: str) -> bytes:
        rows = self.database.read(
            "SELECT artefact FROM project_versions WHERE account_id = ? AND region = ? AND arn = ?",
            (scope.account_id, scope.region, arn),
        )
        if not rows or rows[0][0] is None:
            raise VersionNotFoundError(arn)
        return bytes(rows[0][0])

    def change_status(
        self, scope: Scope, arn: str, allowed: Sequence[str], status: str, min_inference_units: int | None = None
    ) -> ProjectVersion:
        """Set the status if the current one is in `allowed` (VersionStateError otherwise); the version before."""
        with self.database.transaction() as connection:
            version = self._locked(connection, scope, arn)
            if version.status not in allowed:
                raise VersionStateError(version.status)
            connection.execute(
                "UPDATE project_versions SET status = ?, min_inference_units = COALESCE(?, min_inference_units) "
                "WHERE account_id = ? AND region = ? AND arn = ?",
                (status, min_inference_units, scope.account_id, scope.region, arn),
            )
        return version

    def delete(self, scope: Scope, arn: str, allowed: Sequence[str]) -> ProjectVersion:
        """Delete a version whose status is in `allowed` (VersionStateError otherwise); the version deleted."""
        with self.database.transaction() as connection:
            version = self._locked(connection, scope, arn)
            if version.status not in allowed:
                raise VersionStateError(version.status)
            connection.execute(
                "DELETE FROM project_versions WHERE account_id = ? AND region = ? AND arn = ?",
                (scope.account_id, scope.region, arn),
            )
        return version

    def _locked(self, connection: Any, scope: Scope, arn: str) -> ProjectVersion:
        rows = connection.execute(
            f"SELECT {VERSION_COLUMNS} FROM project_versions WHERE account_id = ? AND region = ? AND arn = ?"
            + self.database.row_lock,
            (scope.account_id, scope.region, arn),
        ).fetchall()
        if not rows:
            raise VersionNotFoundError(arn)
        return _version(rows[0])

    # The queue: used by reko.jobs, across every account.

    def claim(self, worker_id: str, stale_before_s: float) -> TrainingJob | None:
        """The oldest job that no live worker holds (never claimed, or its heartbeat older than
        `stale_before_s`), now held by `worker_id`; None when there is none."""
        with self.database.transaction() as connection:
            rows = connection.execute(
                "SELECT account_id, region, project_name, version_name, entries, attempts FROM training_jobs "
                "WHERE claimed_by IS NULL OR heartbeat_at_s < ? ORDER BY queued_at_s LIMIT 1"
                + self.database.claim_lock,
                (stale_before_s,),
            ).fetchall()
            if not rows:
                return None
            account_id, region, project_name, version_name, entries, attempts = rows[0]
            connection.execute(
                f"UPDATE training_jobs SET claimed_by = ?, heartbeat_at_s = ?, attempts = attempts + 1 "
                f"WHERE {VERSION_KEY}",
                (worker_id, time.time(), account_id, region, project_name, version_name),
            )
        return TrainingJob(
            str(account_id), str(region), str(project_name), str(version_name), json.loads(entries), int(attempts) + 1
        )

    def heartbeat(self, job: TrainingJob, worker_id: str, progress_percent: float) -> bool:
        """Refresh the claim and record the progress; False when the job is no longer this worker's (taken over,
        or its version deleted)."""
        key = (job.account_id, job.region, job.project_name, job.version_name)
        with self.database.transaction() as connection:
            held = connection.execute(
                f"UPDATE training_jobs SET heartbeat_at_s = ? WHERE {VERSION_KEY} AND claimed_by = ?",
                (time.time(), *key, worker_id),
            ).rowcount
            if held:
                connection.execute(
                    f"UPDATE project_versions SET progress_percent = ? WHERE {VERSION_KEY}", (progress_percent, *key)
                )
        return bool(held)

    def release(self, job: TrainingJob, worker_id: str) -> None:
        """Give a job back unfinished (a clean stop): the next claim takes it at once, and this claim is not
        counted as an interruption."""
        key = (job.account_id, job.region, job.project_name, job.version_name)
        with self.database.transaction() as connection:
            connection.execute(
                "UPDATE training_jobs SET claimed_by = NULL, heartbeat_at_s = NULL, attempts = attempts - 1 "
                f"WHERE {VERSION_KEY} AND claimed_by = ?",
                (*key, worker_id),
            )

    def finish(
        self, job: TrainingJob, worker_id: str, status: str, status_message: str, description: dict[str, Any],
        artefact: bytes | None,
    ) -> bool:
        """Write the outcome and drop the job in one transaction; False (nothing written) when the job is no
        longer this worker's."""
        key = (job.account_id, job.region, job.project_name, job.version_name)
        with self.database.transaction() as connection:
            held = connection.execute(
                f"DELETE FROM training_jobs WHERE {VERSION_KEY} AND claimed_by = ?", (*key, worker_id)
            ).rowcount
            if held:
                connection.execute(
                    "UPDATE project_versions SET status = ?, status_message = ?, description = ?, "
                    f"progress_percent = 100, artefact = ? WHERE {VERSION_KEY}",
                    (status, status_message, json.dumps(description), artefact, *key),
                )
        return bool(held)


def _version(row: tuple) -> ProjectVersion:
    return ProjectVersion(
        str(row[0]), str(row[1]), str(row[2]), float(row[3]), str(row[4]), str(row[5]), json.loads(row[6]),
        json.loads(row[7]), float(row[8]), None if row[9] is None else int(row[9]),
    )
