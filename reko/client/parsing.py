"""Typed readers over one JSON answer: each returns the member's value, or None when the answer lacks it.

botocore hands back plain dicts typed `Any`; these readers are the one place that turns them into checked Python
values, so the entity modules stay declarative and `mypy --strict` holds everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")

Answer = Mapping[str, Any]


class ResponseParseError(ValueError):
    """An answer whose member has the wrong type, or lacks a member its entity cannot exist without."""


def optional_float(answer: Answer, key: str) -> float | None:
    value = answer.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResponseParseError(f"{key}: expected a number, got {value!r}")
    return float(value)


def optional_int(answer: Answer, key: str) -> int | None:
    value = answer.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ResponseParseError(f"{key}: expected an integer, got {value!r}")
    return value


def optional_str(answer: Answer, key: str) -> str | None:
    value = answer.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ResponseParseError(f"{key}: expected a string, got {value!r}")
    return value


def optional_bool(answer: Answer, key: str) -> bool | None:
    value = answer.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ResponseParseError(f"{key}: expected true or false, got {value!r}")
    return value


def optional_datetime(answer: Answer, key: str) -> datetime | None:
    """botocore parses timestamps into `datetime`; a raw JSON answer carries epoch seconds."""
    value = answer.get(key)
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value).astimezone()
    raise ResponseParseError(f"{key}: expected a timestamp, got {value!r}")


def required(value: T | None, key: str) -> T:
    """The member an entity cannot exist without (a box's Left, a landmark's Type): absent is a broken answer."""
    if value is None:
        raise ResponseParseError(f"{key}: missing from the answer")
    return value


def required_float(answer: Answer, key: str) -> float:
    return required(optional_float(answer, key), key)


def optional_struct(answer: Answer, key: str, parse: Callable[[Answer], T]) -> T | None:
    value = answer.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ResponseParseError(f"{key}: expected an object, got {value!r}")
    return parse(value)


def optional_list(answer: Answer, key: str, parse: Callable[[Any], T]) -> tuple[T, ...] | None:
    """Each item parsed; None (not an empty tuple) when the answer lacks the list, so "not asked" stays visible."""
    value = answer.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ResponseParseError(f"{key}: expected a list, got {value!r}")
    return tuple(parse(item) for item in value)


def struct_list(answer: Answer, key: str, parse: Callable[[Answer], T]) -> tuple[T, ...] | None:
    """A list of objects, each checked to be an object before `parse`."""
    return optional_list(answer, key, lambda item: _as_struct(item, key, parse))


def result_list(answer: Answer, key: str, parse: Callable[[Answer], T]) -> tuple[T, ...]:
    """The list an operation answers with (FaceDetails, Labels, …): Rekognition always sends it, so a missing one
    reads as empty rather than making every caller test for None."""
    return struct_list(answer, key, parse) or ()


def str_list(answer: Answer, key: str) -> tuple[str, ...] | None:
    return optional_list(answer, key, lambda item: _as_type(item, str, key))


def int_list(answer: Answer, key: str) -> tuple[int, ...] | None:
    return optional_list(answer, key, lambda item: _as_type(item, int, key))


def named_list(answer: Answer, key: str) -> tuple[str, ...] | None:
    """`[{"Name": "Vehicle"}, …]` (Parents, Aliases, Categories) as the names alone."""
    return struct_list(answer, key, lambda item: required(optional_str(item, "Name"), f"{key}.Name"))


def _as_struct(item: Any, key: str, parse: Callable[[Answer], T]) -> T:
    if not isinstance(item, Mapping):
        raise ResponseParseError(f"{key}: expected a list of objects, got {item!r}")
    return parse(item)


def _as_type(item: Any, kind: type[T], key: str) -> T:
    if not isinstance(item, kind) or isinstance(item, bool) and kind is not bool:
        raise ResponseParseError(f"{key}: expected {kind.__name__} items, got {item!r}")
    return item
