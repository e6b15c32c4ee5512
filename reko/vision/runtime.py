"""ONNX Runtime sessions: created once per model file and shared by every request."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnxruntime as ort

# Models that take well under ~5 ms (face crops of 32-192 px) run fastest on one thread: splitting them costs
# more in hand-offs than it saves, and a single-threaded session leaves the other cores to concurrent requests.
SMALL_MODEL_THREADS = 1
T = TypeVar("T")

_settings_lock = threading.Lock()
_intra_op_threads = int(os.environ.get("REKO_THREADS", "0")) or min(os.cpu_count() or 1, 4)


def configure(intra_op_threads: int) -> None:
    """Set the thread count of full-image models' sessions created from now on."""
    global _intra_op_threads
    with _settings_lock:
        _intra_op_threads = max(1, intra_op_threads)
    _cached_session.cache_clear()


def providers() -> list[str]:
    """CUDA when this onnxruntime build has it, else the CPU."""
    available = ort.get_available_providers()
    chosen = [p for p in ("CUDAExecutionProvider",) if p in available]
    return [*chosen, "CPUExecutionProvider"]


def session(model_path: Path, intra_op_threads: int | None = None) -> ort.InferenceSession:
    """The one shared session for a model file.

    Args:
        model_path: the ONNX file (from `catalog.model_path`).
        intra_op_threads: threads for one run; None takes the configured count (for full-image models),
            small per-face models pass `SMALL_MODEL_THREADS`.

    ONNX Runtime sessions are thread-safe for `run`, so one per file serves all requests.
    """
    return _cached_session(model_path, intra_op_threads or _intra_op_threads)


@functools.cache
def _cached_session(model_path: Path, intra_op_threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Each session has its own thread pool: spinning workers of one model would steal the cores the next model
    # of the same request needs (measured: DetectFaces ALL 131 ms in-process with spinning, 39 ms without).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), sess_options=options, providers=providers())


_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="reko-onnx")
        return _pool


def submit(task: Callable[..., T], *args: object) -> Future[T]:
    """Run `task(*args)` on the shared inference pool (its cores stay busy while the caller works on).

    Tasks given to the pool must never wait on other pool tasks, or concurrent requests could deadlock it.
    """
    return _shared_pool().submit(task, *args)


def run_each(session: ort.InferenceSession, feeds: Sequence[dict[str, np.ndarray]]) -> list[list[np.ndarray]]:
    """Run a single-threaded session on several inputs at once, one core each.

    For small fixed-batch models (the two eyes of a face, the faces of a photo) this beats both a loop and a
    batched multi-threaded run: ONNX Runtime releases the GIL, so the runs really overlap.
    """
    if len(feeds) <= 1:
        return [session.run(None, feed) for feed in feeds]
    return list(_shared_pool().map(lambda feed: session.run(None, feed), feeds))
