"""Request validation against botocore's `rekognition` service model (2016-06-27).

boto3 itself checks only required members, minimums and types, so maximums, enums and patterns reach the server
unchecked; here every constraint of the model is checked and blobs are decoded from base64 on the way.
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Any

import botocore.session
import regex
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from reko.errors import ImageTooLargeException, InvalidParameterException

SERVICE_NAME = "rekognition"
_INTEGER_TYPES = {"integer", "long"}
_FLOAT_TYPES = {"float", "double"}


@functools.cache
def service_model() -> ServiceModel:
    """The service model botocore ships: the single source of request and response shapes."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def _field_path(parent: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{parent}.{name}" if parent else name


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "java.nio.HeapByteBuffer"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)


class _Validator:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, value: Any, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_render(value)}'"
        self.errors.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    def check(self, shape: Shape, value: Any, path: str) -> Any:
        """Return `value` with blobs decoded; record every constraint it breaks."""
        type_name = shape.type_name
        if isinstance(shape, StructureShape):
            return self._structure(shape, value, path)
        if isinstance(shape, ListShape):
            return self._list(shape, value, path)
        if isinstance(shape, MapShape):
            return self._map(shape, value, path)
        if type_name == "blob":
            return self._blob(shape, value, path)
        if type_name == "string":
            return self._string(shape, value, path)
        if type_name == "boolean":
            if not isinstance(value, bool):
                self.fail(value, path, "Member must be a boolean")
            return value
        if type_name in _INTEGER_TYPES or type_name in _FLOAT_TYPES:
            return self._number(shape, value, path)
        return value  # timestamps and documents: passed through as sent

    def _structure(self, shape: StructureShape, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path or "request", "Member must be a structure")
            return value
        checked: dict[str, Any] = {}
        for name in shape.required_members:
            if value.get(name) is None:
                self.fail(None, _field_path(path, name), "Member must not be null")
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None or member_value is None:
                continue  # unknown members are ignored, as AWS JSON services do
            checked[name] = self.check(member, member_value, _field_path(path, name))
        return checked

    def _list(self, shape: ListShape, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            self.fail(value, path, "Member must be a list")
            return value
        self._length(shape, value, len(value), path)
        return [self.check(shape.member, item, f"{path}.{index}.member") for index, item in enumerate(value, 1)]

    def _map(self, shape: MapShape, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a map")
            return value
        self._length(shape, value, len(value), path)
        return {
            self.check(shape.key, key, f"{path}.key"): self.check(shape.value, item, f"{path}.{key}.value")
            for key, item in value.items()
        }

    def _blob(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be base64-encoded binary data")
            return value
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.fail("<blob>", path, "Member must be valid base64-encoded binary data")
            return value
        maximum = shape.metadata.get("max")
        if shape.name == "ImageBlob" and maximum is not None and len(data) > maximum:
            raise ImageTooLargeException(
                f"Image size is too large: {len(data)} bytes; the limit for Image.Bytes is {maximum} bytes."
            )
        self._length(shape, data, len(data), path)
        return data

    def _string(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be a string")
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # JSON's "\ud800" decodes to a lone surrogate, which nothing downstream can store
            shown = value.encode("utf-8", "backslashreplace").decode("utf-8")
            self.fail(shown, path, "Member must be valid Unicode text (no lone surrogates)")
            return value
        self._length(shape, value, len(value), path)
        if shape.enum and value not in shape.enum:
            self.fail(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and not _compiled(pattern).fullmatch(value):
            self.fail(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        return value

    def _number(self, shape: Shape, value: Any, path: str) -> Any:
        integral = shape.type_name in _INTEGER_TYPES
        valid = isinstance(value, int) if integral else isinstance(value, int | float)
        if isinstance(value, bool) or not valid:
            self.fail(value, path, f"Member must be {'an integer' if integral else 'a number'}")
            return value
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
        if minimum is not None and value < minimum:
            self.fail(value, path, f"Member must have value greater than or equal to {minimum}")
        if maximum is not None and value > maximum:
            self.fail(value, path, f"Member must have value less than or equal to {maximum}")
        return value

    def _length(self, shape: Shape, value: Any, length: int, path: str) -> None:
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
        shown = "<blob>" if isinstance(value, bytes) else value
        if minimum is not None and length < minimum:
            self.fail(shown, path, f"Member must have length greater than or equal to {minimum}")
        if maximum is not None and length > maximum:
            self.fail(shown, path, f"Member must have length less than or equal to {maximum}")


@functools.cache
def _compiled(pattern: str) -> regex.Pattern[str]:
    """The model's patterns use Unicode property classes (`\\p{L}` in tag keys) that `re` cannot compile."""
    return regex.compile(pattern)


def validate_request(operation: OperationModel, body: Any) -> dict[str, Any]:
    """The request with blobs decoded, or `InvalidParameterException` listing every broken constraint."""
    validator = _Validator()
    shape = operation.input_shape
    checked = validator.check(shape, body, "") if shape is not None else {}
    if validator.errors:
        count = len(validator.errors)
        noun = "error" if count == 1 else "errors"
        raise InvalidParameterException(f"{count} validation {noun} detected: " + "; ".join(validator.errors))
    return checked if isinstance(checked, dict) else {}
