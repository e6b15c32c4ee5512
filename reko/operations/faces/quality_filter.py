"""`QualityFilter`: which detected faces are good enough to compare (or, later, to index or search with).

Rekognition documents the levels only as quality bars that drop "an object misidentified as a face, a face
that's too blurry, or a face with a pose that's too extreme"; NONE filters nothing. Reko's bars are cut-offs
on what it measures of every face: `Quality.Sharpness` and `Quality.Brightness` (0-100, see
`reko.vision.faces.quality`), |`Pose.Yaw`| and |`Pose.Pitch`| (degrees), the face's size (the shorter side of
its box, in pixels of the decoded image, which is what the models read: photos over 6.4 MP are decoded at
1/2-1/8, see `reko.images`) and the detector's `Confidence` (percent; the detector keeps >= 70).
A face passes a level when it clears every cut-off of that level:

| level  | sharpness | brightness | abs(yaw) | abs(pitch) | shorter side | confidence |
|--------|-----------|------------|----------|------------|--------------|------------|
| LOW    | >= 3      | 5-95       | <= 60    | <= 45      | >= 16 px     | >= 75      |
| MEDIUM | >= 6      | 10-90      | <= 45    | <= 30      | >= 40 px     | >= 80      |
| HIGH   | >= 30     | 25-85      | <= 25    | <= 20      | >= 80 px     | >= 90      |

Why these numbers (`scripts/measure_quality_filter.py`, 2026-11-30: SFace embeddings of 30 LFW same-person
pairs of `pairs_view2_folds1-2.txt`, the second photo of each degraded; "kept" = cosine still >= 0.30, about
Similarity 80): a face shrunk to 12 px kept 63 % of the pairs, 16 px 93 %, 24 px and more 100 %; Gaussian
blur reading sharpness ~9.7 (median) kept 97 %, ~6.5 kept 90 %, ~3.4 kept 37 %; darkened faces kept 100 %
down to brightness ~8, over-exposed ones (brightness ~95) 77 %. Sharpness (a Laplacian variance) also falls
with contrast: faces darkened to brightness ~16 read ~8.5, to ~8 read ~2.4, and still matched, so the
sharpness floors stay low. So LOW drops only faces whose identity can no longer be read; MEDIUM drops faces
too small or too blurred for a dependable match; HIGH keeps clear, near-frontal, large, well-lit faces. On
150 random LFW photos (largest face) LOW keeps 100 %, MEDIUM 98.7 %, HIGH 84.7 %; on the 380 faces of 60
random WIDER-200 crowd photos LOW keeps 38 % (60 % are under 16 px), MEDIUM 11 %, HIGH 0.3 %. The pose and
confidence cut-offs are judgement, not fitted: no pose-labelled verification set is here. The LFW pairs are
among those the Similarity map is fitted on; no accuracy is claimed for the filter.

AUTO is MEDIUM: its 40 px floor is the smallest face Rekognition's limits page says it detects (40x40 px in a
1920x1080 photo), its pose cut-offs are the ones Rekognition's camera recommendations give for face comparison
(yaw under 45 degrees, pitch under 30), and it keeps nearly every portrait while dropping crowd faces too
small to identify, the faces a user of AUTO (IndexFaces' default) would not want in a collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reko.pipelines.faces import FaceAnalysis

QUALITY_FILTERS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")
AUTO_LEVEL = "MEDIUM"


@dataclass(frozen=True)
class FaceMeasures:
    """What the quality bars read of one face."""

    sharpness: float  # 0-100
    brightness: float  # 0-100
    yaw_deg: float
    pitch_deg: float
    shorter_side_px: float
    confidence_percent: float

    @classmethod
    def of(cls, face: FaceAnalysis) -> FaceMeasures:
        box = face.box
        return cls(
            sharpness=face.quality.sharpness,
            brightness=face.quality.brightness,
            yaw_deg=face.geometry.pose.yaw_deg,
            pitch_deg=face.geometry.pose.pitch_deg,
            shorter_side_px=float(min(box[2] - box[0], box[3] - box[1])),
            confidence_percent=100.0 * face.score,
        )


@dataclass(frozen=True)
class QualityBar:
    """The cut-offs of one level; a face passes when it clears all of them."""

    min_sharpness: float
    min_brightness: float
    max_brightness: float
    max_abs_yaw_deg: float
    max_abs_pitch_deg: float
    min_shorter_side_px: float
    min_confidence_percent: float

    def admits(self, face: FaceMeasures) -> bool:
        return (
            face.sharpness >= self.min_sharpness
            and self.min_brightness <= face.brightness <= self.max_brightness
            and abs(face.yaw_deg) <= self.max_abs_yaw_deg
            and abs(face.pitch_deg) <= self.max_abs_pitch_deg
            and face.shorter_side_px >= self.min_shorter_side_px
            and face.confidence_percent >= self.min_confidence_percent
        )


QUALITY_BARS = {
    "LOW": QualityBar(3.0, 5.0, 95.0, 60.0, 45.0, 16.0, 75.0),
    "MEDIUM": QualityBar(6.0, 10.0, 90.0, 45.0, 30.0, 40.0, 80.0),
    "HIGH": QualityBar(30.0, 25.0, 85.0, 25.0, 20.0, 80.0, 90.0),
}


def quality_bar(level: str) -> QualityBar | None:
    """The bar of a `QualityFilter` value; None for NONE (nothing is filtered)."""
    if level == "NONE":
        return None
    return QUALITY_BARS[AUTO_LEVEL if level == "AUTO" else level]


def passing_faces(faces: Sequence[FaceAnalysis], level: str) -> list[FaceAnalysis]:
    """The faces that pass `level`, in their order."""
    bar = quality_bar(level)
    if bar is None:
        return list(faces)
    return [face for face in faces if bar.admits(FaceMeasures.of(face))]



def failed_reasons(face: FaceAnalysis, level: str) -> list[str]:
    """IndexFaces' `Reasons` for a face that `level` drops: one per kind of cut-off it fails, none if it passes."""
    bar = quality_bar(level)
    return [] if bar is None else reasons_failing(bar, FaceMeasures.of(face))


def reasons_failing(bar: QualityBar, measures: FaceMeasures) -> list[str]:
    """The `Reasons` of the cut-offs of `bar` that `measures` fail, in the model's enum order.

    Pose is EXTREME_POSE, brightness LOW_BRIGHTNESS (too dark or too bright: the model has no other name),
    sharpness LOW_SHARPNESS, the detector's score LOW_CONFIDENCE, the face's size SMALL_BOUNDING_BOX.
    LOW_FACE_QUALITY is never given: Reko measures no overall quality beyond these.
    """
    failed = {
        "EXTREME_POSE": abs(measures.yaw_deg) > bar.max_abs_yaw_deg or abs(measures.pitch_deg) > bar.max_abs_pitch_deg,
        "LOW_BRIGHTNESS": not bar.min_brightness <= measures.brightness <= bar.max_brightness,
        "LOW_SHARPNESS": measures.sharpness < bar.min_sharpness,
        "LOW_CONFIDENCE": measures.confidence_percent < bar.min_confidence_percent,
        "SMALL_BOUNDING_BOX": measures.shorter_side_px < bar.min_shorter_side_px,
    }
    return [reason for reason, failing in failed.items() if failing]
