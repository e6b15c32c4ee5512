"""Draw the faces for a blind second look at the hand labels in `bench/labels/`, and merge the answers back.

The issue behind it: the 1,466 hand labels had one labeller and no check. This script draws a seeded random 10 %
of the faces of each label file, writes numbered contact sheets (3x3 crops, numbers only: no file name, no old
label, no `sample` kind, so the second labeller sees nothing but the face) and a blank answer sheet to a folder
outside the repository. After the sheets have been labelled, `merge` writes `bench/labels/second_look/<file>.csv`:
the original file's columns for the drawn rows, with the second look's labels in place of the old ones.
`python -m bench.label_agreement` then compares the two.

Run from the repository root:
`.venv/bin/python -m scripts.draw_second_look draw [--out /tmp/second_look]`, label the sheets by filling
`<out>/<file>.answers.csv`, then `.venv/bin/python -m scripts.draw_second_look merge [--out /tmp/second_look]`.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO_DIR = Path(__file__).resolve().parents[1]
LABELS_DIR = REPO_DIR / "bench" / "labels"
SECOND_LOOK_DIR = LABELS_DIR / "second_look"
DEFAULT_DATA_DIR = REPO_DIR / ".." / "shared" / "data"
DEFAULT_OUT_DIR = Path("/tmp/second_look")

SECOND_LOOK_SEED = 20261201  # one seed for every file: random.Random(seed).sample over its row numbers
SECOND_LOOK_SHARE = 0.10
CROP_ENLARGE = 1.5  # the face box grown about its centre, so hair, chin and glasses' arms are in view
CELL_PX = 300  # side of one crop on a sheet; boxes of 30-400 px are resized to it (never below 160 px)
SHEET_SIDE = 3  # crops per row and column
# lfw_gender.csv has no boxes: LFW deep-funneled photos are 250x250 with the subject's face near (70-180 px).
LFW_FACE_BOX_PX = (70.0, 70.0, 180.0, 180.0)


@dataclass(frozen=True)
class LabelFile:
    """One hand-label file: its name (without .csv) and its label columns."""

    name: str
    label_columns: tuple[str, ...]


LABEL_FILES = (
    LabelFile("face_expressions", ("smile", "eyes_open", "mouth_open")),
    LabelFile("face_wear", ("eyeglasses", "sunglasses", "beard", "mustache", "occluded")),
    LabelFile("lfw_gender", ("label",)),
    # hands Reko located on the PPE sets (glove / bare / unclear; docs/hand-cover-labels.md): the same seed and
    # share drew the 31 rows of second_look/hand_cover.csv
    LabelFile("hand_cover", ("hand_cover",)),
)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def draw_rows(row_count: int, seed: int = SECOND_LOOK_SEED, share: float = SECOND_LOOK_SHARE) -> list[int]:
    """Row numbers (0-based, in file order) of a seeded random `share` of a file, rounded up, in drawn order."""
    return random.Random(seed).sample(range(row_count), math.ceil(share * row_count))


def face_box(row: dict[str, str]) -> tuple[float, float, float, float]:
    """The labelled face's xyxy box in pixels (the fixed LFW face area when the file has no box)."""
    if "x0" not in row:
        return LFW_FACE_BOX_PX
    x0, y0, x1, y1 = (float(row[key]) for key in ("x0", "y0", "x1", "y1"))
    return x0, y0, x1, y1


def face_crop(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    """A square crop of the box grown `CROP_ENLARGE` times about its centre, resized to `CELL_PX`."""
    x0, y0, x1, y1 = box
    half = CROP_ENLARGE * max(x1 - x0, y1 - y0) / 2
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    corners = (centre_x - half, centre_y - half, centre_x + half, centre_y + half)
    crop = image.crop(tuple(round(value) for value in corners))  # outside the photo reads black
    return crop.resize((CELL_PX, CELL_PX), Image.Resampling.LANCZOS)


def contact_sheets(crops: Sequence[Image.Image], first_number: int = 1) -> list[Image.Image]:
    """Crops on 3x3 sheets, each numbered in its top-left corner from `first_number` on."""
    font = ImageFont.load_default(size=32)
    per_sheet = SHEET_SIDE * SHEET_SIDE
    sheets = []
    for start in range(0, len(crops), per_sheet):
        sheet = Image.new("RGB", (SHEET_SIDE * CELL_PX, SHEET_SIDE * CELL_PX), "white")
        pen = ImageDraw.Draw(sheet)
        for offset, crop in enumerate(crops[start : start + per_sheet]):
            left, top = (offset % SHEET_SIDE) * CELL_PX, (offset // SHEET_SIDE) * CELL_PX
            sheet.paste(crop, (left, top))
            pen.rectangle((left, top, left + CELL_PX - 1, top + CELL_PX - 1), outline="white", width=2)
            pen.text((left + 6, top + 4), str(first_number + start + offset), fill="yellow", font=font,
                     stroke_width=3, stroke_fill="black")
        sheets.append(sheet)
    return sheets


def draw(label_file: LabelFile, data_dir: Path, out_dir: Path) -> int:
    """Write the drawn rows' sheets and a blank answer sheet (`face` = the number on the sheet)."""
    rows = read_rows(LABELS_DIR / f"{label_file.name}.csv")
    drawn = draw_rows(len(rows))
    crops = []
    for number in drawn:
        with Image.open(data_dir / rows[number]["image"]) as image:
            crops.append(face_crop(image.convert("RGB"), face_box(rows[number])))
    for index, sheet in enumerate(contact_sheets(crops)):
        sheet.save(out_dir / f"{label_file.name}.sheet{index + 1:02d}.png")
    with (out_dir / f"{label_file.name}.answers.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("face", "row", *label_file.label_columns))
        writer.writerows((face, number, *[""] * len(label_file.label_columns)) for face, number in
                         enumerate(drawn, start=1))
    return len(drawn)


def merge(label_file: LabelFile, out_dir: Path) -> int:
    """Write `second_look/<file>.csv`: the original rows' columns, the second look's labels in the label columns."""
    rows = read_rows(LABELS_DIR / f"{label_file.name}.csv")
    answers = read_rows(out_dir / f"{label_file.name}.answers.csv")
    merged = []
    for answer in answers:
        row = dict(rows[int(answer["row"])])
        row.update({column: answer[column].strip() for column in label_file.label_columns})
        merged.append(row)
    SECOND_LOOK_DIR.mkdir(parents=True, exist_ok=True)
    with (SECOND_LOOK_DIR / f"{label_file.name}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(merged)
    return len(merged)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("step", choices=("draw", "merge"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="sheets and answers (outside the repo)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    arguments = parser.parse_args(argv)
    arguments.out.mkdir(parents=True, exist_ok=True)
    for label_file in LABEL_FILES:
        if arguments.step == "draw":
            count = draw(label_file, arguments.data_dir, arguments.out)
        else:
            count = merge(label_file, arguments.out)
        print(f"{label_file.name}: {count} faces ({arguments.step})")


if __name__ == "__main__":
    main()
