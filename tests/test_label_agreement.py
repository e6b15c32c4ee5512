"""The agreement maths behind bench/label_agreement.py, the sample split of bench/label_samples.py, and the
committed second look: drawn by the stated seed, from the label files' own rows, with valid values only."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bench import label_agreement
from bench.label_agreement import LABEL_COLUMNS, agreement_row, cohen_kappa, compare
from bench.label_samples import EVERY_FACE, UNSELECTED, score_by_sample, subset_masks
from scripts.draw_second_look import LABEL_FILES, LabelFile, draw_rows

LABELS_DIR = Path(__file__).resolve().parents[1] / "bench" / "labels"
ALLOWED_VALUES = {"label": {"male", "female"}, "hand_cover": {"glove", "bare", "unclear"}}


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # 50 items: 20 yes-yes, 5 yes-no, 10 no-yes, 15 no-no -> observed 0.7, chance 0.5*0.6 + 0.5*0.4 = 0.5.
        (["1"] * 25 + ["0"] * 25, ["1"] * 20 + ["0"] * 5 + ["1"] * 10 + ["0"] * 15, 0.4),
        (["1", "1", "0", "0"], ["1", "0", "0", "0"], 0.5),  # the docstring's example
        (["1", "0", "1", "0"], ["1", "0", "1", "0"], 1.0),  # perfect agreement
        (["1", "1", "0", "0"], ["1", "0", "1", "0"], 0.0),  # exactly chance
        (["1", "0"], ["0", "1"], -1.0),  # always opposite
        (["male", "female", "male"], ["male", "female", "female"], 0.4),  # any values, not only 0/1
    ],
)
def test_cohen_kappa_on_known_examples(first: list[str], second: list[str], expected: float) -> None:
    assert cohen_kappa(first, second) == pytest.approx(expected)


def test_kappa_is_undefined_when_both_give_one_value_throughout() -> None:
    assert cohen_kappa(["1", "1", "1"], ["1", "1", "1"]) is None
    with pytest.raises(ValueError):
        cohen_kappa(["1"], ["1", "0"])


def test_agreement_row_leaves_blank_judgements_out_and_counts_them() -> None:
    row = agreement_row([("1", "1"), ("0", "0"), ("1", "0"), ("", "1"), ("0", "")], "smile")
    assert row["faces"] == 3
    assert row["agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert row["judged_by_one_only"] == 2
    assert (row["positives_first"], row["positives_second"]) == (2, 1)


def test_compare_joins_on_the_face_and_splits_by_sample(tmp_path: Path) -> None:
    header = "image,x0,y0,x1,y1,smile,eyes_open,mouth_open,sample\n"
    original = header + "a.jpg,1,1,9,9,1,1,0,random\na.jpg,20,1,29,9,0,1,1,picked\nb.jpg,1,1,9,9,0,0,0,random\n"
    second = header + "a.jpg,20,1,29,9,0,1,0,picked\nb.jpg,1,1,9,9,1,0,0,random\n"
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    (tmp_path / "first" / "face_expressions.csv").write_text(original)
    (tmp_path / "second" / "face_expressions.csv").write_text(second)
    rows = compare("face_expressions", tmp_path / "first", tmp_path / "second")
    by_key = {(row["attribute"], row["sample"]): row for row in rows}
    assert by_key[("smile", label_agreement.EVERY_FACE)]["agreement"] == 0.5
    assert by_key[("mouth_open", "picked")]["agreement"] == 0.0
    assert by_key[("eyes_open", "random")]["faces"] == 1


@pytest.mark.parametrize("label_file", LABEL_FILES, ids=lambda label_file: label_file.name)
def test_committed_second_look_is_the_seeded_draw_with_valid_values(label_file: LabelFile) -> None:
    name = label_file.name
    with (LABELS_DIR / f"{name}.csv").open(newline="") as handle:
        original = list(csv.DictReader(handle))
    with (LABELS_DIR / "second_look" / f"{name}.csv").open(newline="") as handle:
        second = list(csv.DictReader(handle))
    drawn = [original[number] for number in draw_rows(len(original))]
    keys = ("image", "x0", "y0", "sample")
    assert [[row.get(key) for key in keys] for row in second] == [[row.get(key) for key in keys] for row in drawn]
    for column in LABEL_COLUMNS[name]:
        assert {row[column] for row in second} <= ALLOWED_VALUES.get(column, {"0", "1", ""})


def test_subset_masks_give_every_face_the_unselected_ones_and_each_kind() -> None:
    masks = subset_masks(["random", "picked", "all", "random"])
    assert list(masks) == [EVERY_FACE, UNSELECTED, "all", "picked", "random"]
    assert masks[UNSELECTED].tolist() == [True, False, True, True]
    assert masks["picked"].tolist() == [False, True, False, False]
    assert UNSELECTED not in subset_masks(["random", "random"])


def test_score_by_sample_scores_each_subset_with_the_given_scorer() -> None:
    def count(labels: np.ndarray, probabilities: np.ndarray, **identity: object) -> dict[str, object]:
        return {**identity, "faces": len(labels), "positives": int(labels.sum())}

    rows = score_by_sample(count, np.array([1, 0, 1]), np.array([0.9, 0.2, 0.4]), ["random", "enriched", "random"],
                           attribute="beard")
    assert rows == [
        {"attribute": "beard", "sample": EVERY_FACE, "faces": 3, "positives": 2},
        {"attribute": "beard", "sample": UNSELECTED, "faces": 2, "positives": 2},
        {"attribute": "beard", "sample": "enriched", "faces": 1, "positives": 0},
        {"attribute": "beard", "sample": "random", "faces": 2, "positives": 2},
    ]
