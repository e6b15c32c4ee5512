"""QualityFilter levels on constructed measurements: each level's cut-offs, AUTO's choice, NONE's pass-all."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from reko.operations.faces.quality_filter import (
    AUTO_LEVEL,
    QUALITY_BARS,
    QUALITY_FILTERS,
    FaceMeasures,
    passing_faces,
    quality_bar,
)
from reko.pipelines.faces import Needs
from reko.validation import service_model
from tests.conftest import shared_face_pipeline, test_image

# A clear, frontal, large, well-lit portrait: passes every level.
CRISP = FaceMeasures(
    sharpness=60.0, brightness=55.0, yaw_deg=3.0, pitch_deg=-2.0, shorter_side_px=120.0, confidence_percent=93.0
)
# Faces that pass each level and fail the next stricter one; the failing member is the named one.
PASSES_LOW_ONLY = {
    "sharpness": 4.5, "brightness": 94.0, "yaw_deg": -55.0, "pitch_deg": 40.0, "shorter_side_px": 20.0,
    "confidence_percent": 77.0,
}
PASSES_MEDIUM_NOT_HIGH = {
    "sharpness": 20.0, "brightness": 15.0, "yaw_deg": 35.0, "pitch_deg": -25.0, "shorter_side_px": 60.0,
    "confidence_percent": 85.0,
}
FAILS_LOW = {
    "sharpness": 2.0, "brightness": 98.0, "yaw_deg": 75.0, "pitch_deg": -50.0, "shorter_side_px": 12.0,
    "confidence_percent": 72.0,
}


def levels_passed(face: FaceMeasures) -> list[str]:
    return [level for level in ("LOW", "MEDIUM", "HIGH") if QUALITY_BARS[level].admits(face)]


def test_the_levels_are_the_models_enum() -> None:
    enum = service_model().operation_model("CompareFaces").input_shape.members["QualityFilter"].enum
    assert sorted(QUALITY_FILTERS) == sorted(enum)


def test_a_crisp_frontal_portrait_passes_every_level() -> None:
    assert levels_passed(CRISP) == ["LOW", "MEDIUM", "HIGH"]


@pytest.mark.parametrize("member", sorted(PASSES_LOW_ONLY))
def test_low_keeps_a_face_medium_drops(member: str) -> None:
    assert levels_passed(replace(CRISP, **{member: PASSES_LOW_ONLY[member]})) == ["LOW"]


@pytest.mark.parametrize("member", sorted(PASSES_MEDIUM_NOT_HIGH))
def test_medium_keeps_a_face_high_drops(member: str) -> None:
    assert levels_passed(replace(CRISP, **{member: PASSES_MEDIUM_NOT_HIGH[member]})) == ["LOW", "MEDIUM"]


@pytest.mark.parametrize("member", sorted(FAILS_LOW))
def test_low_drops_a_face_whose_identity_cannot_be_read(member: str) -> None:
    assert levels_passed(replace(CRISP, **{member: FAILS_LOW[member]})) == []


def test_the_levels_are_nested() -> None:
    """Whatever HIGH keeps MEDIUM keeps, and whatever MEDIUM keeps LOW keeps, on a grid of measurements."""
    rng = np.random.default_rng(0)
    for _ in range(2000):
        face = FaceMeasures(
            sharpness=rng.uniform(0, 100), brightness=rng.uniform(0, 100), yaw_deg=rng.uniform(-90, 90),
            pitch_deg=rng.uniform(-60, 60), shorter_side_px=rng.uniform(8, 200),
            confidence_percent=rng.uniform(70, 100),
        )
        passed = levels_passed(face)
        assert passed == ["LOW", "MEDIUM", "HIGH"][: len(passed)]


def test_auto_is_the_documented_level_and_none_filters_nothing() -> None:
    assert quality_bar("AUTO") == QUALITY_BARS[AUTO_LEVEL] == QUALITY_BARS["MEDIUM"]
    assert quality_bar("NONE") is None


def test_measures_of_a_real_face_and_the_filter_over_it() -> None:
    """`FaceMeasures.of` reads the pipeline's analysis (box in pixels, score 0-1 as percent, pose, quality)."""
    (face,) = shared_face_pipeline().analyze(test_image("astronaut.png"), Needs())
    measures = FaceMeasures.of(face)
    assert measures.shorter_side_px == pytest.approx(min(face.box[2] - face.box[0], face.box[3] - face.box[1]))
    assert measures.confidence_percent == pytest.approx(100 * face.score)
    assert measures.yaw_deg == face.geometry.pose.yaw_deg
    assert measures.sharpness == face.quality.sharpness
    for level in QUALITY_FILTERS:  # the astronaut is a clear, frontal, 90 px portrait
        assert passing_faces([face], level) == [face]
    tiny = replace(face, box=np.array([10.0, 10.0, 22.0, 24.0], np.float32))
    assert passing_faces([tiny, face], "LOW") == [face]
    assert passing_faces([tiny, face], "NONE") == [tiny, face]

