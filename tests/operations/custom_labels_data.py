"""Tiny Ground Truth manifests for the Custom Labels tests, written at test time into a folder bucket of a running
server (images and boxes from ../shared/data/ppe; nothing of the shared data is committed)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import SHARED_DATA, RunningServer

HARD_HATS = SHARED_DATA / "ppe" / "hard_hat_workers"
MASKS = SHARED_DATA / "ppe" / "face_mask_detection"
BUCKET = "custom-labels"
CROP_PX = 96  # mask crops are enlarged to this side: DetectCustomLabels, like every image operation, wants >= 80 px


def classification_line(source_ref: str, label: str) -> str:
    return json.dumps({
        "source-ref": source_ref,
        "class": 1,
        "class-metadata": {"confidence": 1, "class-name": label, "human-annotated": "yes",
                           "type": "groundtruth/image-classification"},
    })


def detection_line(source_ref: str, size: tuple[int, int], boxes: list[tuple[str, float, float, float, float]],
                   class_map: dict[str, int]) -> str:
    return json.dumps({
        "source-ref": source_ref,
        "bounding-box": {
            "image_size": [{"width": size[0], "height": size[1], "depth": 3}],
            "annotations": [
                {"class_id": class_map[label], "left": left, "top": top, "width": width, "height": height}
                for label, left, top, width, height in boxes
            ],
        },
        "bounding-box-metadata": {
            "objects": [{"confidence": 1} for _ in boxes],
            "class-map": {str(number): label for label, number in class_map.items()},
            "type": "groundtruth/object-detection", "human-annotated": "yes",
        },
    })


def voc_boxes(xml_path: Path) -> tuple[tuple[int, int], list[tuple[str, float, float, float, float]]]:
    """(width, height) and (label, left, top, width, height) pixel boxes of a Pascal VOC file."""
    root = ElementTree.parse(xml_path).getroot()
    size = (int(root.findtext("size/width") or 0), int(root.findtext("size/height") or 0))
    boxes = []
    for item in root.iter("object"):
        box = item.find("bndbox")
        assert box is not None
        x0, y0, x1, y1 = (float(box.findtext(name) or 0) for name in ("xmin", "ymin", "xmax", "ymax"))
        x1, y1 = min(x1, size[0]), min(y1, size[1])
        boxes.append((str(item.findtext("name")), x0, y0, x1 - x0, y1 - y0))
    return size, boxes


def write_object(server: RunningServer, key: str, data: bytes) -> str:
    """Put `data` at `key` of the test bucket of the server's data folder; its s3:// URL."""
    path = server.data_dir / "s3" / BUCKET / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"s3://{BUCKET}/{key}"


def mask_crops(count_per_label: int) -> list[tuple[np.ndarray, str]]:
    """Face crops (RGB, CROP_PX square) labelled with_mask / without_mask, in file order, `count_per_label` each."""
    found: list[tuple[np.ndarray, str]] = []
    wanted = {"with_mask": count_per_label, "without_mask": count_per_label}
    for xml_path in sorted((MASKS / "annotations").glob("*.xml")):
        image = None
        _, boxes = voc_boxes(xml_path)
        for label, left, top, width, height in boxes:
            if wanted.get(label, 0) <= 0 or min(width, height) < 16:
                continue
            if image is None:
                image = np.asarray(Image.open(MASKS / "images" / f"{xml_path.stem}.png").convert("RGB"))
            crop = image[int(top): int(top + height), int(left): int(left + width)]
            found.append((np.asarray(Image.fromarray(crop).resize((CROP_PX, CROP_PX))), label))
            wanted[label] -= 1
        if not any(wanted.values()):
            break
    return found
