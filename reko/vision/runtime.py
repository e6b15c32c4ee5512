"""ONNX Runtime sessions: created once per model file and shared by every request."""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

import onnxruntime as ort

_settings_lock = threading.Lock()
_intra_op_threads = int(os.environ.get("REKO_THREADS", "0")) or min(os.cpu_count() or 1, 4)


def configure(intra_op_threads: int) -> None:
    """Set the thread count used by sessions created from now on (call before the first inference)."""
    global _intra_op_threads
    with _settings_lock:
        _intra_op_threads = max(1, intra_op_threads)
    session.cache_clear()


def providers() -> list[str]:
    """CUDA when this onnxruntime build has it, else the CPU."""
    available = ort.get_available_providers()
    chosen = [p for p in ("CUDAExecutionProvider",) if p in available]
    return [*chosen, "CPUExecutionProvider"]


@functools.cache
def session(model_path: Path) -> ort.InferenceSession:
    """The one shared session for a model file.

    ONNX Runtime sessions are thread-safe for `run`, so one per file serves all requests.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = _intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(model_path), sess_options=options, providers=providers())
