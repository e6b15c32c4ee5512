"""AWS JSON 1.1: how bodies, targets and errors look on the wire."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from reko.errors import RekognitionError, SerializationException, UnknownOperationException

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "RekognitionService."


def operation_from_target(target: str | None, known_operations: set[str]) -> str:
    """`RekognitionService.DetectFaces` → `DetectFaces`; anything else is an unknown operation."""
    if not target or not target.startswith(TARGET_PREFIX):
        raise UnknownOperationException(f"Unknown operation: X-Amz-Target '{target or ''}'.")
    name = target[len(TARGET_PREFIX) :]
    if name not in known_operations:
        raise UnknownOperationException(f"Unknown operation {name}.")
    return name


def decode_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise SerializationException("The request body must be a JSON object.")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_body(value: dict[str, Any]) -> bytes:
    return json.dumps(value, default=_plain, separators=(",", ":")).encode()


def error_body(error: RekognitionError) -> bytes:
    return encode_body({"__type": error.code, "Message": error.message})
