"""`--draw OUT.png` for the `reko` detect commands: the answer drawn onto its image with `reko.client.draw`.

The CLI prints the API's JSON; the drawing reads that same answer through `reko.client`'s entities, so what is
drawn is exactly what a Python client would see.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# The operations whose answers can be drawn, and the `reko.client` result each answer parses into.
DRAWABLE_RESULTS = {
    "DetectFaces": "DetectFacesResult",
    "CompareFaces": "CompareFacesResult",
    "DetectLabels": "DetectLabelsResult",
    "DetectCustomLabels": "DetectCustomLabelsResult",
    "DetectProtectiveEquipment": "DetectProtectiveEquipmentResult",
}


def add_draw_flag(parser: argparse.ArgumentParser, image_name: str = "the image") -> None:
    parser.add_argument(
        "--draw", metavar="OUT.png", help=f"also save {image_name} with the answer drawn on it (PNG, JPEG, …)"
    )


def drawing_saver(operation: str, image: str, out: str | None) -> Callable[[Mapping[str, Any]], None] | None:
    """A callback that draws an answer of `operation` onto `image` and saves it to `out`; None without `out`."""
    if out is None:
        return None

    def save(answer: Mapping[str, Any]) -> None:
        import reko.client

        result = getattr(reko.client, DRAWABLE_RESULTS[operation]).from_api(answer)
        reko.client.draw(image, result).save(out)
        print(f"reko: drawn to {Path(out)}", file=sys.stderr)

    return save
