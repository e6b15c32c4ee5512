"""ONNX Runtime sessions, created once per model file and shared by every request, and the pool they share.

A `Runtime` is made once by the engine from its settings; model wrappers take it in their constructor, so no
module here reads the environment or keeps a global.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnxruntime as ort
from threadpoolctl import threadpool_limits

from reko.vision.catalog import Catalog

# Models that take well under ~5 ms (face crops of 32-192 px) run fastest on one thread: splitting them costs
# more in hand-offs than it saves, and a single-threaded session leaves the other cores to concurrent requests.
SMALL_MODEL_THREADS = 1
MAX_FULL_IMAGE_THREADS = 4
T = TypeVar("T")


# NumPy's OpenBLAS gets one thread: Reko's matrix products are small (a cell head over the 8k cells of an 832 px
# photo, landmark averaging, ridge boxes) and run inside requests that already keep the cores busy through ONNX
# Runtime and the pool; OpenBLAS's own workers spin after each product and took those cores (measured on the
# PPE latency photo in-process, 2 idle cores: 130.9 ms wall and 250 ms CPU with its default 2 threads, 97.1 ms
# and 163 ms with 1; DetectFaces moved within noise).
BLAS_THREADS = 1


def limit_blas_threads(threads: int = BLAS_THREADS) -> None:
    """Set the process's BLAS thread count (a process-wide setting: the engine calls it once, at start)."""
    threadpool_limits(limits=threads, user_api="blas")


def default_threads() -> int:
    """Threads for one full-image model run: the cores, up to MAX_FULL_IMAGE_THREADS."""
    return min(os.cpu_count() or 1, MAX_FULL_IMAGE_THREADS)


def providers() -> list[str]:
    """CUDA when this onnxruntime build has it, else the CPU."""
    available = ort.get_available_providers()
    chosen = [p for p in ("CUDAExecutionProvider",) if p in available]
    return [*chosen, "CPUExecutionProvider"]


class Runtime:
    """Sessions by model name, and one thread pool on which independent models of a request overlap.

    Args:
        catalog: where model files come from (verified, prepared on first use).
        intra_op_threads: threads of full-image models; 0 picks `default_threads()`.
        pool_workers: threads of the shared pool; 0 picks the core count.
    """

    def __init__(self, catalog: Catalog, intra_op_threads: int = 0, pool_workers: int = 0) -> None:
        self.catalog = catalog
        self.intra_op_threads = intra_op_threads or default_threads()
        self.pool_workers = pool_workers or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=self.pool_workers, thread_name_prefix="reko-onnx")
        self._sessions: dict[tuple[Path, int], ort.InferenceSession] = {}
        self._lock = threading.Lock()

    def model_path(self, name: str) -> Path:
        return self.catalog.model_path(name)

    def session(self, model_name: str, intra_op_threads: int | None = None) -> ort.InferenceSession:
        """The one shared session of a catalogued model.

        Args:
            model_name: a name of the catalogue (`catalog.MODELS`).
            intra_op_threads: None takes the runtime's count (for full-image models); small per-face models
                pass `SMALL_MODEL_THREADS`.

        ONNX Runtime sessions are thread-safe for `run`, so one per file serves all requests.
        """
        key = (self.catalog.model_path(model_name), intra_op_threads or self.intra_op_threads)
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = _new_session(*key)
            return self._sessions[key]

    def submit(self, task: Callable[..., T], *args: object) -> Future[T]:
        """Run `task(*args)` on the shared pool (its cores stay busy while the caller works on).

        Tasks given to the pool must never wait on other pool tasks, or concurrent requests could deadlock it.
        """
        return self._pool.submit(task, *args)

    def run_each(self, session: ort.InferenceSession, feeds: Sequence[dict[str, np.ndarray]]) -> list[list[np.ndarray]]:
        """Run a single-threaded session on several inputs at once, one core each.

        For small fixed-batch models (the two eyes of a face, the faces of a photo) this beats both a loop and a
        batched multi-threaded run: ONNX Runtime releases the GIL, so the runs really overlap.
        """
        if len(feeds) <= 1:
            return [session.run(None, feed) for feed in feeds]
        return list(self._pool.map(lambda feed: session.run(None, feed), feeds))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _new_session(model_path: Path, intra_op_threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Each session has its own thread pool: spinning workers of one model would steal the cores the next model
    # of the same request needs (measured: DetectFaces ALL 131 ms in-process with spinning, 39 ms without).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), sess_options=options, providers=providers())
