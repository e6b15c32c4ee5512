"""AWS JSON 1.1 bodies: what no Rekognition member can hold is a SerializationException, never an internal error,
and refusing it costs little."""

from __future__ import annotations

import base64
import json
import time

import pytest

from reko.errors import SerializationException
from reko.server.protocol import MAX_JSON_DEPTH, decode_body, nests_deeper_than


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 8_000_000,
        b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1),
        b'{"MaxFaces": ' + b"9" * 5_000 + b"}",
        b'{"MaxFaces": -' + b"9" * 20 + b"}",
        b'{"SimilarityThreshold": Infinity}',
        b"[]",
        b'"a string"',
    ],
    ids=["100k deep", "8M open brackets", "one level too deep", "5000 digits", "20 digits", "Infinity", "array",
         "string"],
)
def test_refused_bodies(body: bytes) -> None:
    with pytest.raises(SerializationException):
        decode_body(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", {}),
        (b'{"a":' * (MAX_JSON_DEPTH - 1) + b"[1]" + b"}" * (MAX_JSON_DEPTH - 1), None),
        (b'{"MaxFaces": 9223372036854775807}', {"MaxFaces": 9223372036854775807}),
        (b'{"a": "' + b"[{" * 50_000 + b'"}', {"a": "[{" * 50_000}),
        (b'{"a": "\\"[[[[" , "b": [[1]]}', {"a": '"[[[[', "b": [[1]]}),
    ],
    ids=["empty", "as deep as allowed", "largest long", "brackets inside a string", "escaped quote before brackets"],
)
def test_accepted_bodies(body: bytes, expected: dict | None) -> None:
    assert decode_body(body) == (json.loads(body) if expected is None else expected)


def test_depth_is_counted_outside_strings_only() -> None:
    nested = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    assert nests_deeper_than(nested, MAX_JSON_DEPTH)
    assert not nests_deeper_than(b'["' + nested + b'"]', MAX_JSON_DEPTH)
    assert not nests_deeper_than(b"[]," * 10_000, MAX_JSON_DEPTH)


def test_a_real_image_request_is_not_scanned_bracket_by_bracket() -> None:
    body = b'{"Image":{"Bytes":"' + base64.b64encode(bytes(range(256)) * 20_000) + b'"}}'
    started = time.perf_counter()
    for _ in range(10):
        assert not nests_deeper_than(body, MAX_JSON_DEPTH)
    assert (time.perf_counter() - started) / 10 < 0.25  # two bytes.count over 6.8 MB: ~5 ms; the full scan ~0.5 s
