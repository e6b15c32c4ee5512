"""The `ImageProperties` member and instance colours of DetectLabels, strictly in botocore's shapes."""

from __future__ import annotations

import numpy as np
import pytest

from reko.operations.labels.properties import image_properties, instance_dominant_colors, max_dominant_colors
from reko.validation import service_model
from tests.conftest import test_image
from tests.shapes import shape_errors


def shape(name: str):  # type: ignore[no-untyped-def]
    return service_model().shape_for(name)


def test_answer_has_botocores_shape_on_a_photo() -> None:
    photo = test_image("coffee.png")
    answer = image_properties(photo, np.array([[90, 20, 480, 380]], np.float32), None)
    assert shape_errors(shape("DetectLabelsImageProperties"), answer) == []
    assert set(answer) == {"Quality", "DominantColors", "Foreground", "Background"}
    assert set(answer["Quality"]) == {"Brightness", "Sharpness", "Contrast"}
    assert set(answer["Foreground"]["Quality"]) == {"Brightness", "Sharpness"}
    assert 1 <= len(answer["DominantColors"]) <= 10
    shares = [c["PixelPercent"] for c in answer["DominantColors"]]
    assert shares == sorted(shares, reverse=True) and sum(shares) <= 100.0


def test_red_and_blue_image() -> None:
    rgb = np.zeros((120, 200, 3), np.uint8)
    rgb[:, :140, 0] = 255
    rgb[:, 140:, 2] = 255
    answer = image_properties(rgb, np.array([[0, 0, 140, 120]]), {"ImageProperties": {"MaxDominantColors": 5}})
    assert [(c["CSSColor"], c["SimplifiedColor"], c["HexCode"]) for c in answer["DominantColors"]] == [
        ("red", "red", "#ff0000"),
        ("blue", "blue", "#0000ff"),
    ]
    assert answer["DominantColors"][0]["PixelPercent"] == pytest.approx(70.0, abs=0.5)
    assert [c["CSSColor"] for c in answer["Foreground"]["DominantColors"]] == ["red"]
    assert [c["CSSColor"] for c in answer["Background"]["DominantColors"]] == ["blue"]


def test_whole_image_box_leaves_background_out() -> None:
    rgb = test_image("chelsea.png")
    answer = image_properties(rgb, np.array([[-5, -5, 1000, 1000]]), None)
    assert "Background" not in answer and "Foreground" in answer


@pytest.mark.parametrize(("settings", "expected"), [(None, 10), ({}, 10), ({"ImageProperties": {}}, 10),
                                                    ({"ImageProperties": {"MaxDominantColors": 3}}, 3),
                                                    ({"ImageProperties": {"MaxDominantColors": 0}}, 0)])
def test_max_dominant_colors(settings: dict | None, expected: int) -> None:
    assert max_dominant_colors(settings) == expected


def test_max_dominant_colors_zero_gives_empty_lists() -> None:
    answer = image_properties(test_image("coffee.png"), np.zeros((0, 4)), {"ImageProperties": {"MaxDominantColors": 0}})
    assert answer["DominantColors"] == [] and answer["Foreground"]["DominantColors"] == []


def test_instance_colours() -> None:
    rgb = np.zeros((100, 100, 3), np.uint8)
    rgb[20:60, 30:70] = (0, 128, 0)
    colors = instance_dominant_colors(rgb, np.array([30, 20, 70, 60]))
    assert [(c["CSSColor"], c["PixelPercent"]) for c in colors] == [("green", 100.0)]
    assert shape_errors(shape("DominantColors"), colors) == []
    assert instance_dominant_colors(rgb, np.array([200, 200, 300, 300])) == []
