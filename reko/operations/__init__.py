"""Rekognition semantics: one module per operation family, one snake_case function per operation.

A handler takes the validated request dict and an `OperationContext` and returns the response dict.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reko.errors import NotImplementedException
from reko.operations import faces
from reko.operations.context import OperationContext
from reko.vision import catalog, runtime

Handler = Callable[[dict[str, Any], OperationContext], dict[str, Any]]

HANDLERS: dict[str, Handler] = {
    "DetectFaces": faces.detect_faces,
}


def handler_for(operation_name: str) -> Handler:
    """The handler of an operation of the Rekognition model, or a clear error if Reko lacks it."""
    try:
        return HANDLERS[operation_name]
    except KeyError:
        raise NotImplementedException(
            f"Reko does not implement {operation_name} yet. Implemented: {', '.join(sorted(HANDLERS))}."
        ) from None


def configure_models(model_cache_dir: Path, inference_threads: int = 0) -> None:
    """Where prepared models are cached, and how many threads full-image models use (0: the default)."""
    catalog.set_cache_dir(model_cache_dir)
    if inference_threads:
        runtime.configure(inference_threads)


def warm_up() -> None:
    """Load every model the implemented operations use, so the first request is not slow."""
    faces.warm_up()
