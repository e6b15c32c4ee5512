"""Strict check of a raw JSON answer against botocore's output shape: botocore itself silently drops
unknown keys, so a misspelt member would pass a boto3 test unnoticed."""

from __future__ import annotations

from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from reko.validation import service_model


def shape_errors(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Every way `value` departs from `shape`: unknown keys, wrong types, values outside enums."""
    where = path or "<root>"
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{where}: expected object, got {type(value).__name__}"]
        errors = [f"{where}: unknown member {key!r}" for key in value if key not in shape.members]
        for key, item in value.items():
            if key in shape.members:
                errors += shape_errors(shape.members[key], item, f"{path}.{key}")
        return errors
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{where}: expected list"]
        return [e for i, item in enumerate(value) for e in shape_errors(shape.member, item, f"{path}[{i}]")]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{where}: expected map"]
        return [e for k, item in value.items() for e in shape_errors(shape.value, item, f"{path}.{k}")]
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected string"]
        if shape.enum and value not in shape.enum:
            return [f"{where}: {value!r} not in enum {shape.enum}"]
        return []
    if kind in ("integer", "long"):
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: expected integer"]
    if kind in ("float", "double"):
        return [] if isinstance(value, int | float) and not isinstance(value, bool) else [f"{where}: expected number"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected boolean"]
    return []


def output_errors(operation: str, answer: dict[str, Any]) -> list[str]:
    return shape_errors(service_model().operation_model(operation).output_shape, answer)
