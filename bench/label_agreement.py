"""How well a blind second look agrees with the hand labels in `bench/labels/`: percent agreement and Cohen's kappa.

`scripts/draw_second_look.py` drew a seeded random 10 % of each label file and the same person (an AI engineer of
this project, not the first labeller) labelled them again without seeing the old labels; the answers are in
`bench/labels/second_look/<file>.csv`. Per attribute this suite counts the faces both looks judged (a blank, "could
not judge", on either side leaves the face out and is counted apart), the share where they agree, and Cohen's kappa,
which discounts the agreement two labellers would reach by chance given how often each says yes. Rows are given for
every drawn face and per `sample` kind. No model runs.

Run from the repository root: `.venv/bin/python -m bench.label_agreement`.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench import report

LABELS_DIR = Path(__file__).resolve().parent / "labels"
SECOND_LOOK_DIR = LABELS_DIR / "second_look"
# Label columns per file, and the value counted as "positive" in the table (gender: the minority class).
LABEL_COLUMNS = {
    "face_expressions": ("smile", "eyes_open", "mouth_open"),
    "face_wear": ("eyeglasses", "sunglasses", "beard", "mustache", "occluded"),
    "lfw_gender": ("label",),
    "hand_cover": ("hand_cover",),  # glove / bare / unclear: three values, kappa over all three
}
POSITIVE_VALUE = {"label": "female", "hand_cover": "glove"}
FACE_KEY_COLUMNS = ("image", "x0", "y0", "x1", "y1")  # a photo can hold several labelled faces
EVERY_FACE = "every drawn face"


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa of two labellers over the same items: (observed - chance) / (1 - chance) agreement.

    Chance agreement is the sum over values of the product of each labeller's share of that value. None when
    chance agreement is 1 (both gave one and the same value to everything): kappa is undefined there.

    Example: first = 1 1 0 0, second = 1 0 0 0 -> observed 0.75, chance 0.5*0.25 + 0.5*0.75 = 0.5, kappa 0.5.
    """
    if len(first) != len(second) or not first:
        raise ValueError("kappa needs two equally long, non-empty label lists")
    count = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / count
    first_share, second_share = Counter(first), Counter(second)
    chance = sum(first_share[value] * second_share[value] for value in first_share) / count**2
    if chance >= 1.0:
        return None
    return (observed - chance) / (1.0 - chance)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def face_key(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[column] for column in FACE_KEY_COLUMNS if column in row)


def agreement_row(pairs: list[tuple[str, str]], attribute: str) -> dict[str, object]:
    """One attribute's figures over (first look, second look) value pairs; "" means not judged."""
    judged = [(first, second) for first, second in pairs if first and second]
    positive = POSITIVE_VALUE.get(attribute, "1")
    first, second = [pair[0] for pair in judged], [pair[1] for pair in judged]
    kappa = cohen_kappa(first, second) if judged else None
    return {
        "faces": len(judged),
        "agreement": round(sum(a == b for a, b in judged) / len(judged), 4) if judged else None,
        "kappa": round(kappa, 4) if kappa is not None else None,
        "positives_first": first.count(positive),
        "positives_second": second.count(positive),
        "judged_by_one_only": sum(bool(a) != bool(b) for a, b in pairs),
    }


def compare(name: str, labels_dir: Path = LABELS_DIR, second_dir: Path = SECOND_LOOK_DIR) -> list[dict[str, object]]:
    """Rows per attribute, for every drawn face and per `sample` kind, of one label file."""
    original = {face_key(row): row for row in read_rows(labels_dir / f"{name}.csv")}
    second = read_rows(second_dir / f"{name}.csv")
    missing = [face_key(row) for row in second if face_key(row) not in original]
    if missing:
        raise ValueError(f"{name}: second-look faces not in the label file: {missing[:3]}")
    kinds = [EVERY_FACE, *sorted({row["sample"] for row in second})]
    rows = []
    for attribute in LABEL_COLUMNS[name]:
        for kind in kinds:
            chosen = [row for row in second if kind in (EVERY_FACE, row["sample"])]
            pairs = [(original[face_key(row)][attribute].strip(), row[attribute].strip()) for row in chosen]
            rows.append({"file": name, "attribute": attribute, "sample": kind, **agreement_row(pairs, attribute)})
    return rows


def run(data_dir: Path | None = None) -> list[dict[str, object]]:
    """Every label file that has a second look (`data_dir` is unused: no images are read)."""
    return [row for name in LABEL_COLUMNS if (SECOND_LOOK_DIR / f"{name}.csv").is_file() for row in compare(name)]


def main() -> None:
    rows = run()
    report.save("label_agreement", rows)
    sys.stdout.write(report.markdown(rows) + "\n")


if __name__ == "__main__":
    main()
