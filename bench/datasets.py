"""Ground-truth loaders for the evaluation sets in ../shared/data: WIDER FACE text files and Pascal VOC XML.

Both give the same shape: one `LabelledImage` per image, boxes as (n, 4) xyxy pixels, so a benchmark never
cares which format its set came in.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@dataclass(frozen=True)
class LabelledImage:
    """One image and its ground truth.

    Attributes:
        path: the image file.
        boxes: (n, 4) float32 xyxy pixels.
        labels: n class names.
        ignore: (n,) bool, boxes the source marks as not to be scored (WIDER `invalid`, VOC `difficult`).
    """

    path: Path
    boxes: np.ndarray
    labels: tuple[str, ...]
    ignore: np.ndarray


def load_wider(gt_file: Path, image_dir: Path) -> list[LabelledImage]:
    """Read a WIDER FACE ground-truth file (`name`, count, then `x y w h blur expr illum invalid occl pose`).

    Image names in the file carry the event folder (`0--Parade/…`); files are looked up flat in `image_dir`
    first, then under the folder, so both layouts work. Lines starting with `#` are comments.
    """
    lines = [line.strip() for line in gt_file.read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    images: list[LabelledImage] = []
    at = 0
    while at < len(lines):
        name, count = lines[at], int(lines[at + 1])
        rows = [[float(value) for value in line.split()] for line in lines[at + 2 : at + 2 + max(count, 1)]]
        at += 2 + max(count, 1)  # an image with no face still has one all-zero line
        values = np.array(rows[:count], np.float32).reshape(count, -1)
        boxes = np.concatenate([values[:, :2], values[:, :2] + values[:, 2:4]], axis=1)
        path = image_dir / Path(name).name
        images.append(
            LabelledImage(
                path=path if path.is_file() else image_dir / name,
                boxes=boxes.reshape(count, 4),
                labels=("face",) * count,
                ignore=values[:, 7] > 0 if count else np.zeros(0, bool),
            )
        )
    return images


def load_voc(
    annotation_dir: Path, image_dir: Path, classes: Collection[str] | None = None
) -> list[LabelledImage]:
    """Read every Pascal VOC XML file in `annotation_dir`, keeping objects of `classes` (all if None)."""
    images: list[LabelledImage] = []
    for xml_file in sorted(annotation_dir.glob("*.xml"), key=_natural_key):
        root = ElementTree.parse(xml_file).getroot()
        boxes: list[list[float]] = []
        labels: list[str] = []
        ignore: list[bool] = []
        for item in root.iter("object"):
            label = (item.findtext("name") or "").strip()
            box = item.find("bndbox")
            if box is None or (classes is not None and label not in classes):
                continue
            boxes.append([float(box.findtext(key) or 0) for key in ("xmin", "ymin", "xmax", "ymax")])
            labels.append(label)
            ignore.append((item.findtext("difficult") or "0").strip() == "1")
        filename = (root.findtext("filename") or f"{xml_file.stem}.png").strip()
        images.append(
            LabelledImage(
                path=image_dir / filename,
                boxes=np.array(boxes, np.float32).reshape(-1, 4),
                labels=tuple(labels),
                ignore=np.array(ignore, bool),
            )
        )
    return images


def _natural_key(path: Path) -> tuple[str, int]:
    """Sort `name10` after `name9`, as the data sets number their files."""
    digits = "".join(character for character in path.stem if character.isdigit())
    return path.stem.rstrip("0123456789"), int(digits or 0)
