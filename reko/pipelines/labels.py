"""The label models run on one image: the ImageNet classifier, the COCO detector and the face detector, in parallel.

Returns the models' own outputs (ImageNet probabilities, COCO boxes and scores); naming them as labels is the
operation's job. Tiles of the detector run only when the whole-image pass suggests small people (see
`needs_tiles`), the cheaper route to small-person recall than tiling every photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reko.vision.faces.detector import FaceDetector
from reko.vision.labels.classifier import ImageClassifier
from reko.vision.labels.confidence import LabelConfidence
from reko.vision.labels.objects import DetectedObjects, ObjectDetector
from reko.vision.runtime import Runtime
from reko.vision.types import FaceBoxes

# Tiles: 2x2 of 0.6 (5 passes), the cheaper of the two grids bench/labels_models.py measured.
TILE_GRID = 2
TILE_FRACTION = 0.6
# A whole-image person box this short (as a fraction of the image's height) with at least this score says the
# photo holds people the 300x300 pass may miss: then the tiles run. Chosen on the COCO subset (bench/labels.py).
SMALL_PERSON_HEIGHT_FRACTION = 0.25
SMALL_PERSON_MIN_SCORE = 0.2


@dataclass(frozen=True)
class LabelEvidence:
    """What the label models say of one image.

    Attributes:
        objects: detector boxes in pixels of the image, raw scores, COCO class names; best first.
        object_confidence: (n,) float32 calibrated probability that each object is right.
        probabilities: (1000,) float32 ImageNet softmax, in the classifier's class order.
        faces: the face detector's faces (the `Face` label's instances), best first.
        face_confidence: (m,) float32 calibrated probability that each face is real.
        tiled: whether the detector's tiles were searched.
    """

    objects: DetectedObjects
    object_confidence: np.ndarray
    probabilities: np.ndarray
    faces: FaceBoxes
    face_confidence: np.ndarray
    tiled: bool


class LabelPipeline:
    """The label models of one process, loaded once."""

    def __init__(self, runtime: Runtime, *, adaptive_tiles: bool = True) -> None:
        self.runtime = runtime
        self.detector = ObjectDetector(runtime, tile_grid=TILE_GRID, tile_fraction=TILE_FRACTION)
        self.classifier = ImageClassifier(runtime)
        self.faces = face_finder(runtime)
        self.confidence = LabelConfidence.load(runtime.model_path("label-confidence"))
        self.adaptive_tiles = adaptive_tiles

    def analyze(self, rgb: np.ndarray) -> LabelEvidence:
        """Run the classifier and the face detector on the shared pool while this thread runs the detector."""
        probabilities = self.runtime.submit(self.classifier.probabilities, rgb)
        faces = self.runtime.submit(self.faces.find_faces, rgb)
        tiled = False

        def tile_when(whole: DetectedObjects) -> bool:
            nonlocal tiled
            tiled = self.adaptive_tiles and needs_tiles(whole, rgb.shape[0])
            return tiled

        objects = self.detector.find_objects(rgb, tile_when=tile_when)
        found_faces = faces.result()
        return LabelEvidence(
            objects=objects,
            object_confidence=self.confidence.objects(objects.scores, fused=tiled),
            probabilities=probabilities.result(),
            faces=found_faces,
            face_confidence=self.confidence.face.probability(found_faces.scores),
            tiled=tiled,
        )


def face_finder(runtime: Runtime) -> FaceDetector:
    """The face detector as DetectLabels runs it: the first pass only (~11 ms of CPU for 640x480).

    DetectFaces' enlarged second pass for small faces costs 4x that and runs on every photo without faces, which
    would double DetectLabels' time on photos with no people; the session itself is DetectFaces' (shared).
    """
    return FaceDetector(runtime, min_face_px=0)


def needs_tiles(whole: DetectedObjects, image_height_px: int) -> bool:
    """Whether the whole-image pass found a person short enough that smaller ones are likely missed."""
    heights = whole.boxes[:, 3] - whole.boxes[:, 1]
    people = (np.array(whole.class_names) == "person") & (whole.scores >= SMALL_PERSON_MIN_SCORE)
    return bool(np.any(people & (heights < SMALL_PERSON_HEIGHT_FRACTION * image_height_px)))
