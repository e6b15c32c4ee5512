"""A Custom Labels training interrupted by kill -9 of its server is taken over after a restart and finishes; a job
interrupted too often fails with a StatusMessage instead of training for ever. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from reko.jobs.worker import CLAIM_LEASE_S, MAX_TRAINING_ATTEMPTS, TrainingWorker
from reko.store import Scope, Store
from reko.store.custom_labels import Project
from reko.store.model_versions import ProjectVersion
from tests.conftest import RunningServer, make_client, needs_shared_data, share_model_cache, start_server, stop_server
from tests.operations.custom_labels_data import BUCKET
from tests.operations.test_custom_labels_models import FAST_WAIT, OUTPUT, hard_hat_lines, write_manifest


def start_training(first: RunningServer) -> str:
    """A detection version queued on `first`, returned once its worker has started on it; the project ARN.

    14 training photos: on idle cores 9 photos trained in about 2 s, faster than the first heartbeat showed progress,
    so the window to interrupt was missed; 14 keep it open for several seconds under any load."""
    client = make_client(first.url)
    project = client.create_project(ProjectName="restart")["ProjectArn"]
    client.create_dataset(ProjectArn=project, DatasetType="TRAIN",
                          DatasetSource=write_manifest(first, hard_hat_lines(first, 14)))
    client.create_dataset(ProjectArn=project, DatasetType="TEST",
                          DatasetSource=write_manifest(first, hard_hat_lines(first, 2, 14)))
    client.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=OUTPUT)
    deadline = time.monotonic() + 30
    while True:  # kill once the worker holds the job and has started
        [version] = client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
        assert version["Status"] == "TRAINING_IN_PROGRESS", version
        if not version["StatusMessage"].endswith(": 0 % done."):
            break
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.05)
    return str(project)


@needs_shared_data("ppe", "hard_hat_workers")
def test_training_survives_kill_9(server: RunningServer, tmp_path: Path, backend_flags: tuple[str, ...]) -> None:
    share_model_cache(server, tmp_path)
    first = start_server(tmp_path, *backend_flags)
    try:
        project = start_training(first)
    finally:
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=20)

    second = start_server(tmp_path, *backend_flags)
    try:
        client = make_client(second.url)
        started = time.monotonic()
        client.get_waiter("project_version_training_completed").wait(ProjectArn=project, WaiterConfig=FAST_WAIT)
        assert time.monotonic() - started >= CLAIM_LEASE_S * 0.5  # it waited for the dead worker's lease
        [version] = client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
        assert version["Status"] == "TRAINING_COMPLETED" and "F1Score" in version["EvaluationResult"]
    finally:
        stop_server(second)


@needs_shared_data("ppe", "hard_hat_workers")
def test_a_clean_stop_gives_the_job_back(server: RunningServer, tmp_path: Path) -> None:
    share_model_cache(server, tmp_path)
    first = start_server(tmp_path)
    try:
        project = start_training(first)
    finally:
        stop_server(first)  # SIGTERM: the worker gives its job back, not counted as an attempt
    with sqlite3.connect(tmp_path / "reko.sqlite3") as database:
        assert database.execute("SELECT claimed_by, attempts FROM training_jobs").fetchall() == [(None, 0)]
    second = start_server(tmp_path)
    try:
        client = make_client(second.url)
        [version] = client.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
        assert version["Status"] == "TRAINING_IN_PROGRESS"
        started = time.monotonic()
        client.get_waiter("project_version_training_completed").wait(ProjectArn=project, WaiterConfig=FAST_WAIT)
        assert time.monotonic() - started < 60
    finally:
        stop_server(second)


@pytest.fixture
def store(tmp_path: Path, backend_flags: tuple[str, ...]):
    database_url = backend_flags[1] if backend_flags else None
    opened = Store(tmp_path / "reko.sqlite3", tmp_path / "s3", database_url=database_url)
    yield opened
    opened.close()


def test_a_job_interrupted_too_often_fails_cleanly(store: Store, tmp_path: Path) -> None:
    scope = Scope("000000000000", "us-east-1")
    store.custom_labels.create_project(scope, Project("p", "arn:p", 0.0, "CUSTOM_LABELS", None))
    version = ProjectVersion("p", "v1", "arn:v1", 0.0, "TRAINING_IN_PROGRESS", "", {"OutputConfig": {
        "S3Bucket": BUCKET}}, {}, 0.0, None)
    store.model_versions.create(scope, version, {"TRAIN": [], "TEST": []})
    for attempt in range(1, MAX_TRAINING_ATTEMPTS + 1):  # workers that die right after claiming
        job = store.model_versions.claim(f"dead-{attempt}", stale_before_s=time.time() + 1)
        assert job is not None and job.attempts == attempt
    assert store.model_versions.claim("live", stale_before_s=time.time() - CLAIM_LEASE_S) is None  # still leased

    worker = TrainingWorker(store, runner=lambda: pytest.fail("no training expected"), artefacts_dir=tmp_path)
    job = store.model_versions.claim(worker.worker_id, stale_before_s=time.time() + 1)
    assert job is not None
    worker._run(job)
    [failed] = store.model_versions.versions(scope, "p", None, 10, None)
    assert failed.status == "TRAINING_FAILED"
    assert f"interrupted {MAX_TRAINING_ATTEMPTS} times" in failed.status_message
    assert store.model_versions.claim("live", stale_before_s=time.time() + 1) is None  # the queue is empty


def test_two_workers_never_claim_the_same_job(store: Store) -> None:
    scope = Scope("000000000000", "us-east-1")
    store.custom_labels.create_project(scope, Project("q", "arn:q", 0.0, "CUSTOM_LABELS", None))
    for name in ("v1", "v2"):
        store.model_versions.create(scope, ProjectVersion("q", name, f"arn:{name}", 0.0, "TRAINING_IN_PROGRESS", "",
                                                          {}, {}, 0.0, None), {"TRAIN": [], "TEST": []})
    stale_before = time.time() - CLAIM_LEASE_S
    first = store.model_versions.claim("a", stale_before)
    second = store.model_versions.claim("b", stale_before)
    assert first is not None and second is not None and first.version_name != second.version_name
    assert store.model_versions.claim("c", stale_before) is None
    assert store.model_versions.heartbeat(first, "a", 50.0) and not store.model_versions.heartbeat(first, "b", 50.0)
