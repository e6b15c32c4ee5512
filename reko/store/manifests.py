"""SageMaker Ground Truth manifests (JSON Lines), the format Custom Labels datasets are made of and stored in.

Two kinds of label attribute are read, named by the `type` of their `<attribute>-metadata`:
- `groundtruth/image-classification` (one class name, `class-name`) and its `-multilabel` form (`class-map`);
- `groundtruth/object-detection`: `annotations` of `class_id`, `left`, `top`, `width`, `height` in pixels of
  `image_size`, named through `class-map`.
A line with neither is an unlabelled image. A whole manifest is checked before anything is stored, so a bad line
(`ManifestError` with its number and the reason) leaves nothing half-created.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_ENTRY_CHARS = 100_000  # the API's limit on one dataset entry (DatasetEntry)
CLASSIFICATION = "groundtruth/image-classification"
MULTILABEL = "groundtruth/image-classification-multilabel"
DETECTION = "groundtruth/object-detection"


class ManifestError(Exception):
    """A line of a manifest is not a valid entry; nothing was stored."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class EntryBox:
    """One object of an object-detection entry, in pixels of the image the manifest describes."""

    label: str
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class DatasetEntry:
    """One image of a dataset and its labels, with the JSON line it came from (re-serialised compactly)."""

    source_ref: str
    bucket: str
    key: str
    image_labels: tuple[str, ...]
    boxes: tuple[EntryBox, ...]
    image_size: tuple[int, int] | None  # (width, height) the boxes are measured in
    line: str

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label of the entry, image-level and of its boxes, each once, sorted."""
        return tuple(sorted({*self.image_labels, *(box.label for box in self.boxes)}))

    @property
    def labeled(self) -> bool:
        return bool(self.image_labels or self.boxes)


def parse_manifest(text: str) -> list[DatasetEntry]:
    """Every entry of a manifest, in order; ManifestError at the first bad line (numbered from 1).

    Blank lines are skipped; a source-ref twice in one manifest is an error (which label would be right?).
    """
    entries: list[DatasetEntry] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        entry = parse_entry(raw, number)
        if entry.source_ref in first_line:
            raise ManifestError(number, f"source-ref {entry.source_ref} already appears at line "
                                        f"{first_line[entry.source_ref]}")
        first_line[entry.source_ref] = number
        entries.append(entry)
    if not entries:
        raise ManifestError(1, "the manifest has no entries")
    return entries


def parse_entry(raw: str, number: int = 1) -> DatasetEntry:
    """One JSON line → `DatasetEntry`; ManifestError(number, reason) when it is not a valid entry."""
    if len(raw) > MAX_ENTRY_CHARS:
        raise ManifestError(number, f"the line is longer than {MAX_ENTRY_CHARS} characters")
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise ManifestError(number, f"not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ManifestError(number, "a line must be a JSON object")
    source_ref = document.get("source-ref")
    if not isinstance(source_ref, str):
        raise ManifestError(number, "missing source-ref (a string 's3://bucket/key')")
    bucket, key = split_s3_url(source_ref, number)
    image_labels: list[str] = []
    boxes: list[EntryBox] = []
    image_size: tuple[int, int] | None = None
    for name, metadata in document.items():
        if not name.endswith("-metadata"):
            continue
        attribute = name.removesuffix("-metadata")
        if not isinstance(metadata, dict):
            raise ManifestError(number, f"{name} must be an object")
        if attribute not in document:
            raise ManifestError(number, f"{name} describes an attribute '{attribute}' the line does not have")
        kind = metadata.get("type")
        value = document[attribute]
        if kind == CLASSIFICATION:
            image_labels.append(_class_name(metadata, value, name, number))
        elif kind == MULTILABEL:
            image_labels.extend(_multilabel(metadata, value, name, number))
        elif kind == DETECTION:
            size, found = _detection(metadata, value, attribute, number)
            image_size = image_size or size
            boxes.extend(found)
        else:
            raise ManifestError(number, f"{name} has type {kind!r}; expected {CLASSIFICATION}, {MULTILABEL} or "
                                        f"{DETECTION}")
    line = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return DatasetEntry(source_ref, bucket, key, tuple(dict.fromkeys(image_labels)), tuple(boxes), image_size, line)


def split_s3_url(url: str, number: int = 1) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket or not key:
        raise ManifestError(number, f"source-ref {url!r} is not an S3 URL 's3://bucket/key'")
    return bucket, key


def _label_name(value: Any, what: str, number: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise ManifestError(number, f"{what} must be a label name of 1 to 255 characters")
    return value


def _class_map(metadata: dict[str, Any], name: str, number: int) -> dict[str, str]:
    class_map = metadata.get("class-map")
    if not isinstance(class_map, dict) or not class_map:
        raise ManifestError(number, f"{name} has no class-map")
    return {str(key): _label_name(label, f"{name}.class-map[{key}]", number) for key, label in class_map.items()}


def _class_name(metadata: dict[str, Any], value: Any, name: str, number: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(number, f"the class of {name.removesuffix('-metadata')} must be an integer")
    return _label_name(metadata.get("class-name"), f"{name}.class-name", number)


def _multilabel(metadata: dict[str, Any], value: Any, name: str, number: int) -> list[str]:
    class_map = _class_map(metadata, name, number)
    if not isinstance(value, list) or not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        raise ManifestError(number, f"the classes of {name.removesuffix('-metadata')} must be a list of integers")
    missing = [item for item in value if str(item) not in class_map]
    if missing:
        raise ManifestError(number, f"class {missing[0]} is not in {name}.class-map")
    return [class_map[str(item)] for item in value]


def _detection(
    metadata: dict[str, Any], value: Any, attribute: str, number: int
) -> tuple[tuple[int, int], list[EntryBox]]:
    class_map = _class_map(metadata, f"{attribute}-metadata", number)
    if not isinstance(value, dict) or not isinstance(value.get("annotations"), list):
        raise ManifestError(number, f"{attribute} must be an object with a list of annotations")
    sizes = value.get("image_size")
    size = sizes[0] if isinstance(sizes, list) and sizes and isinstance(sizes[0], dict) else {}
    if not (_positive(size.get("width")) and _positive(size.get("height"))):
        raise ManifestError(number, f"{attribute}.image_size must give the image's width and height in pixels")
    width, height = float(size["width"]), float(size["height"])
    boxes: list[EntryBox] = []
    for index, annotation in enumerate(value["annotations"]):
        where = f"{attribute}.annotations[{index}]"
        if not isinstance(annotation, dict):
            raise ManifestError(number, f"{where} must be an object")
        numbers = [annotation.get(field) for field in ("left", "top", "width", "height")]
        if not all(isinstance(item, int | float) and not isinstance(item, bool) for item in numbers):
            raise ManifestError(number, f"{where} needs numbers left, top, width and height")
        left, top, box_width, box_height = (float(item) for item in numbers)  # type: ignore[arg-type]
        if box_width <= 0 or box_height <= 0:
            raise ManifestError(number, f"{where} has no area (width {box_width}, height {box_height})")
        if left < -1 or top < -1 or left + box_width > width + 1 or top + box_height > height + 1:
            raise ManifestError(number, f"{where} lies outside the {width:g}x{height:g} image")
        class_id = str(annotation.get("class_id"))
        if class_id not in class_map:
            raise ManifestError(number, f"{where}.class_id {annotation.get('class_id')!r} is not in the class-map")
        boxes.append(EntryBox(class_map[class_id], left, top, box_width, box_height))
    return (int(width), int(height)), boxes


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def manifest_text(entries: Iterable[DatasetEntry]) -> str:
    """Entries back as a manifest (one JSON line each, newline-terminated)."""
    return "".join(entry.line + "\n" for entry in entries)
