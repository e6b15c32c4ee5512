"""AWS JSON 1.1: how bodies, targets and errors look on the wire."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from reko.errors import RekognitionError, SerializationException, UnknownOperationException

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "RekognitionService."
# The deepest Rekognition request (e.g. CreateProjectVersion's TrainingData.Assets[].GroundTruthManifest.S3Object)
# nests 6 levels; 32 leaves room for any member and stops a 100,000-deep body long before Python's recursion limit.
MAX_JSON_DEPTH = 32
# Every Rekognition number member is an Integer, a Long or a Float: an integer literal of more than 19 digits can be
# none of them, and Python's int() of thousands of digits raises ValueError (and costs quadratic time below that).
MAX_JSON_INTEGER_DIGITS = 19

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = bytes(code for code in range(256) if code not in b"[]{}")


def operation_from_target(target: str | None, known_operations: set[str]) -> str:
    """`RekognitionService.DetectFaces` → `DetectFaces`; anything else is an unknown operation."""
    if not target or not target.startswith(TARGET_PREFIX):
        raise UnknownOperationException(f"Unknown operation: X-Amz-Target '{target or ''}'.")
    name = target[len(TARGET_PREFIX) :]
    if name not in known_operations:
        raise UnknownOperationException(f"Unknown operation {name}.")
    return name


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in `body` nest more than `limit` levels, without decoding it.

    A body with at most `limit` brackets (every real request: base64 has none) costs two `bytes.count` calls; the
    full scan (brackets inside strings dropped, then a running sum; ~0.2 s for 8 MiB of brackets) runs only on
    bodies with many brackets, and only for callers whose signature already verified.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_A_BRACKET)
    if not brackets:
        return False
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = ((codes == ord("[")) | (codes == ord("{"))).astype(np.int8) * 2 - 1
    return int(np.cumsum(steps, dtype=np.int32).max()) > limit


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise SerializationException(
            f"Number {text[:20]}… ({len(text)} digits) cannot be converted to an Integer or a Long."
        )
    return int(text)


def _constant(text: str) -> float:
    raise SerializationException(f"{text} is not a JSON number.")


def decode_body(body: bytes) -> dict[str, Any]:
    """The request's JSON object; anything else (bad JSON, too deep, a number no member can hold) is a
    SerializationException, never an internal error."""
    if not body.strip():
        return {}
    if nests_deeper_than(body, MAX_JSON_DEPTH):
        raise SerializationException(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        value = json.loads(body, parse_int=_integer, parse_constant=_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from error
    except (RecursionError, ValueError) as error:  # the pre-scan's backstop: never a 500
        raise SerializationException(f"The request body cannot be decoded: {error}") from error
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
