"""The label taxonomy (taxonomy.json, built by scripts/build_label_taxonomy.py): names, parents, aliases, categories.

Read once per process. Model classes map onto labels here: the detector's COCO class names, the classifier's
ImageNet class indices, and the face detector's Face; two classes that name the same thing share one label.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")


@dataclass(frozen=True)
class LabelInfo:
    """One label: its ancestors nearest first, other names, and the categories it belongs to."""

    name: str
    parents: tuple[str, ...]
    aliases: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """Every label, and which label each model class names.

    Attributes:
        labels: label name → its entry.
        imagenet: the label of each ImageNet class, in the classifier's output order (1000).
        coco: COCO class name → label.
        face: the label of a face detector box.
        names: every label name, in a fixed order (the rows of `imagenet_membership`).
        imagenet_membership: (labels, 1000) float32 0/1: row r is 1 where the ImageNet class is label r or
            one of its descendants, so `imagenet_membership @ probabilities` is the probability of each label.
    """

    labels: dict[str, LabelInfo]
    imagenet: tuple[str, ...]
    coco: dict[str, str]
    face: str
    names: tuple[str, ...]
    imagenet_membership: np.ndarray

    @classmethod
    def from_json(cls, data: dict) -> Taxonomy:
        labels = {
            name: LabelInfo(name, tuple(entry["parents"]), tuple(entry["aliases"]), tuple(entry["categories"]))
            for name, entry in data["labels"].items()
        }
        names = tuple(sorted(labels))
        row = {name: i for i, name in enumerate(names)}
        membership = np.zeros((len(names), len(data["imagenet"])), np.float32)
        for column, label in enumerate(data["imagenet"]):
            for name in (label, *labels[label].parents):
                membership[row[name], column] = 1.0
        return cls(labels, tuple(data["imagenet"]), dict(data["coco"]), data["face"], names, membership)

    def lineage(self, name: str) -> tuple[str, ...]:
        """The label and all its ancestors."""
        return (name, *self.labels[name].parents)


@functools.cache
def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    return Taxonomy.from_json(json.loads(path.read_text()))
