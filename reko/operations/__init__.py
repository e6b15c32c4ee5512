"""Rekognition semantics: one package per operation family, one snake_case function per operation.

A handler takes the validated request dict and an `OperationContext` and returns the response dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reko.errors import NotImplementedException
from reko.operations.common.context import OperationContext
from reko.operations.faces.compare import compare_faces
from reko.operations.faces.detect import detect_faces

Handler = Callable[[dict[str, Any], OperationContext], dict[str, Any]]

HANDLERS: dict[str, Handler] = {
    "CompareFaces": compare_faces,
    "DetectFaces": detect_faces,
}


def handler_for(operation_name: str) -> Handler:
    """The handler of an operation of the Rekognition model, or a clear error if Reko lacks it."""
    try:
        return HANDLERS[operation_name]
    except KeyError:
        raise NotImplementedException(
            f"Reko does not implement {operation_name} yet. Implemented: {', '.join(sorted(HANDLERS))}."
        ) from None
