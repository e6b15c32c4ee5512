"""Cut the hands Reko locates on the CC0 PPE photos into numbered contact sheets, for labelling glove / bare.

No glove data set exists in ../shared/data, so HAND_COVER is trained and measured on hands labelled by eye
(`docs/hand-cover-labels.md`). The hands are the ones the server itself reports: `PpePipeline.analyze` on every
photo of both PPE sets, each LEFT_HAND / RIGHT_HAND it lists (pose confidence >= 50 %). Each crop on a sheet is the
hand box grown to `SHEET_CONTEXT` times its side about its centre (the sleeve and what the hand holds help the
eye), with the hand box drawn in, and a big number; `candidates.csv` maps numbers to (image, person, side, box).

Run from the repository root: `.venv/bin/python -m scripts.cut_hand_crops [--out /tmp/hand_crops]`; label the
sheets, then write `bench/labels/hand_cover.csv` from `candidates.csv` and the labels.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.datasets import DATA_DIR
from bench.models import bench_runtime, face_pipeline
from bench.ppe_sets import halves, hard_hat_images, mask_images
from reko.pipelines.labels import LabelPipeline
from reko.pipelines.ppe import PpePipeline

CELL_PX = 150  # one crop on a sheet; hands here are 10-60 px, so the sheet enlarges them
SHEET_COLUMNS, SHEET_ROWS = 6, 5
SHEET_CONTEXT = 3.0


def hand_rows(pipeline: PpePipeline, data_dir: Path) -> list[dict[str, object]]:
    """Every hand the pipeline reports on both sets, in file order, with the set half it belongs to."""
    rows: list[dict[str, object]] = []
    for images in (hard_hat_images(data_dir), mask_images(data_dir)):
        training = {image.path for image in halves(images)[0]}
        for image in images:
            rgb = np.asarray(Image.open(image.path).convert("RGB"))
            for index, person in enumerate(pipeline.analyze(rgb)):
                for side, box in (("LEFT", person.left_hand_box), ("RIGHT", person.right_hand_box)):
                    if box is None:
                        continue
                    rows.append({
                        "image": str(image.path.relative_to(data_dir)), "person": index, "side": side,
                        **{key: round(float(v), 1) for key, v in zip(("x0", "y0", "x1", "y1"), box, strict=True)},
                        "half": "training" if image.path in training else "reporting",
                    })
    return rows


def sheet_cell(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    x0, y0, x1, y1 = box
    half = SHEET_CONTEXT * max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    cell = image.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
    scale = CELL_PX / (2 * half)
    cell = cell.resize((CELL_PX, CELL_PX), Image.Resampling.LANCZOS)
    pen = ImageDraw.Draw(cell)
    pen.rectangle(((x0 - cx + half) * scale, (y0 - cy + half) * scale, (x1 - cx + half) * scale,
                   (y1 - cy + half) * scale), outline="cyan", width=1)
    return cell


def write_sheets(rows: list[dict[str, object]], data_dir: Path, out_dir: Path) -> int:
    font = ImageFont.load_default(size=22)
    per_sheet = SHEET_COLUMNS * SHEET_ROWS
    sheets = 0
    for start in range(0, len(rows), per_sheet):
        sheet = Image.new("RGB", (SHEET_COLUMNS * CELL_PX, SHEET_ROWS * CELL_PX), "white")
        pen = ImageDraw.Draw(sheet)
        for offset, row in enumerate(rows[start : start + per_sheet]):
            with Image.open(data_dir / str(row["image"])) as image:
                box = tuple(float(row[key]) for key in ("x0", "y0", "x1", "y1"))  # type: ignore[arg-type]
                cell = sheet_cell(image.convert("RGB"), box)  # type: ignore[arg-type]
            left, top = (offset % SHEET_COLUMNS) * CELL_PX, (offset // SHEET_COLUMNS) * CELL_PX
            sheet.paste(cell, (left, top))
            pen.rectangle((left, top, left + CELL_PX - 1, top + CELL_PX - 1), outline="white", width=1)
            pen.text((left + 3, top + 1), str(start + offset + 1), fill="yellow", font=font, stroke_width=3,
                     stroke_fill="black")
        sheets += 1
        sheet.save(out_dir / f"sheet{sheets:02d}.png")
    return sheets


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/hand_crops"))
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir.resolve()
    runtime = bench_runtime()
    rows = hand_rows(PpePipeline(runtime, LabelPipeline(runtime), face_pipeline()), data_dir)
    with (args.out / "candidates.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["number", *rows[0]] if rows else ["number"])
        writer.writeheader()
        writer.writerows({"number": number, **row} for number, row in enumerate(rows, start=1))
    print(f"{len(rows)} hands on {write_sheets(rows, data_dir, args.out)} sheets in {args.out}")


if __name__ == "__main__":
    main()
