"""The background worker that trains queued Custom Labels versions, one at a time, outside the request pool.

Every server (and `reko custom-labels train`) runs one. It claims the oldest queued job from the store, keeps the
claim's heartbeat fresh from a thread of its own while training runs, and writes the outcome with the job's
deletion in one transaction. A process killed mid-training leaves a job whose heartbeat goes stale; after
`CLAIM_LEASE_S` any worker takes it over and trains it again from the start (training is deterministic and takes
minutes); a server stopped cleanly gives its job back, so the next one starts it at once. A job claimed more than
`MAX_TRAINING_ATTEMPTS` times fails with a StatusMessage instead of looping.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reko.jobs.training import TrainingFailed, evaluation_summary, train_model, write_outputs
from reko.store import Store
from reko.store.model_versions import TrainingJob
from reko.vision.training.model import ARTEFACT_FORMAT, CustomModelRunner

HEARTBEAT_S = 1.0
# A claim whose heartbeat is older than this belongs to a dead worker. Heartbeats come from their own thread every
# second, so only a stopped process (or a database unreachable this long) misses ten in a row.
CLAIM_LEASE_S = 10.0
POLL_S = 1.0
MAX_TRAINING_ATTEMPTS = 3  # claims of one job: the first and two takeovers after interruptions
log = logging.getLogger("reko.jobs")


class TrainingWorker:
    """Claims and trains queued versions on a daemon thread (`start`), or inline (`run_pending`).

    Args:
        store: where the queue, the versions and the buckets are.
        runner: the backbones (made on first use: a server that never trains never loads them).
        artefacts_dir: where a copy of each trained model is written, `<dir>/<account>/<region>/<project>/
            <version>/<format>.npz` (the database holds the one servers load).
    """

    def __init__(self, store: Store, runner: Callable[[], CustomModelRunner], artefacts_dir: Path) -> None:
        self.store = store
        self.runner = runner
        self.artefacts_dir = artefacts_dir
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._current: TrainingJob | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="reko-training", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop claiming; a job in training is given back, so the next server to start takes it at once."""
        self._stop.set()
        job = self._current
        if job is not None:
            try:
                self.store.model_versions.release(job, self.worker_id)
            except Exception:  # the database may already be gone: the lease then runs out instead
                log.exception("could not give back training job %s/%s", job.project_name, job.version_name)

    def run_pending(self) -> int:
        """Train every job that can be claimed now; how many were run."""
        count = 0
        while not self._stop.is_set() and (
            job := self.store.model_versions.claim(self.worker_id, time.time() - CLAIM_LEASE_S)
        ) is not None:
            self._run(job)
            count += 1
        return count

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.run_pending():
                    self._stop.wait(POLL_S)
            except Exception:  # a database outage: log it and try again, the thread must not die
                log.exception("training worker: claiming failed")
                self._stop.wait(POLL_S * 5)

    def _run(self, job: TrainingJob) -> None:
        versions = self.store.model_versions
        if job.attempts > MAX_TRAINING_ATTEMPTS:
            versions.finish(job, self.worker_id, "TRAINING_FAILED", (
                f"Training was interrupted {job.attempts - 1} times (the server training it stopped); "
                "create a new version to try again"), {}, None)
            return
        log.info("training %s/%s (attempt %d)", job.project_name, job.version_name, job.attempts)
        self._current = job
        progress = [0.0]
        beating = threading.Event()
        heart = threading.Thread(target=self._beat, args=(job, progress, beating), daemon=True)
        heart.start()
        started_s = time.monotonic()
        try:
            outcome = self._train(job, progress)
        except TrainingFailed as error:
            outcome = ("TRAINING_FAILED", str(error), {}, None)
        except Exception as error:  # a bug must fail the version, not leave it training for ever
            log.exception("training %s/%s failed", job.project_name, job.version_name)
            outcome = ("TRAINING_FAILED", f"Training failed: {type(error).__name__}: {error}", {}, None)
        finally:
            self._current = None
            beating.set()
            heart.join()
        status, message, description, artefact = outcome
        description["BillableTrainingTimeInSeconds"] = math.ceil(time.monotonic() - started_s)
        description["TrainingEndTimestamp"] = time.time()
        if not versions.finish(job, self.worker_id, status, message, description, artefact):
            log.warning("training %s/%s: the job was taken over or deleted meanwhile; result dropped",
                        job.project_name, job.version_name)

    def _beat(self, job: TrainingJob, progress: list[float], done: threading.Event) -> None:
        while not done.wait(HEARTBEAT_S):
            try:
                self.store.model_versions.heartbeat(job, self.worker_id, progress[0])
            except Exception:
                log.exception("training heartbeat failed")

    def _train(self, job: TrainingJob, progress: list[float]) -> tuple[str, str, dict[str, Any], bytes | None]:
        from reko.store import Scope

        scope = Scope(job.account_id, job.region)
        [version] = self.store.model_versions.versions(scope, job.project_name, None, 1, [job.version_name])

        def report(percent: float) -> None:
            progress[0] = percent

        result = train_model(job.entries, self.store.objects, self.runner(), report)
        artefact = result.model.to_bytes()
        self._keep_copy(job, artefact)
        summary = evaluation_summary(result, version.arn, time.time())
        written = write_outputs(self.store.objects, version.request["OutputConfig"], job.project_name,
                                job.version_name, job.entries, summary)
        description = {
            "EvaluationResult": {"F1Score": summary["AggregatedEvaluationResults"]["F1Score"],
                                 "Summary": {"S3Object": written["summary"]}},
            "TrainingDataResult": {
                "Input": version.request.get("TrainingData", {}),
                "Output": {"Assets": [{"GroundTruthManifest": {"S3Object": written["TRAIN"]}}]},
            },
            "TestingDataResult": {
                "Input": version.request.get("TestingData", {}),
                "Output": {"Assets": [{"GroundTruthManifest": {"S3Object": written["TEST"]}}], "AutoCreate":
                           bool(version.request.get("TestingData", {}).get("AutoCreate", False))},
            },
        }
        return "TRAINING_COMPLETED", "The model is ready to run.", description, artefact

    def _keep_copy(self, job: TrainingJob, artefact: bytes) -> None:
        folder = self.artefacts_dir.joinpath(job.account_id, job.region, job.project_name, job.version_name)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{ARTEFACT_FORMAT}.npz.tmp"
        temporary.write_bytes(artefact)
        os.replace(temporary, folder / f"{ARTEFACT_FORMAT}.npz")
