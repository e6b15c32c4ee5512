"""One place that runs the face models on an image and keeps what each `FaceDetail` member needs.

The engine makes one `FacePipeline` per process (ONNX Runtime sessions are shared and thread-safe); only the
models a request needs are run: DEFAULT skips age, gender, expressions, wear and the iris model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reko.vision.faces.age_gender import AgeGenderEstimator
from reko.vision.faces.detector import FaceDetector
from reko.vision.faces.emotions import EMOTION_NAMES, EmotionClassifier
from reko.vision.faces.expressions import ExpressionCurves
from reko.vision.faces.head_pose import FaceGeometry, face_geometry
from reko.vision.faces.mesh import FaceMesh, FaceMeshResult
from reko.vision.faces.quality import FaceQuality, assess_quality
from reko.vision.faces.wear import FaceWear, FaceWearEstimator
from reko.vision.runtime import Runtime
from reko.vision.types import FaceBoxes

MAX_FACES = 100  # Rekognition returns the 100 largest faces


@dataclass(frozen=True)
class FaceAnalysis:
    """Everything measured on one face; optional parts are None when the request did not need them."""

    box: np.ndarray  # (4,) xyxy pixels
    score: float
    keypoints: np.ndarray  # (5, 2) pixels
    mesh: FaceMeshResult
    geometry: FaceGeometry
    quality: FaceQuality
    age_range: tuple[int, int] | None = None
    male_probability: float | None = None
    emotions: dict[str, float] | None = None  # FER class name -> probability
    wear: FaceWear | None = None


@dataclass(frozen=True)
class Needs:
    """Which optional models a request needs."""

    iris: bool = False
    age_gender: bool = False
    emotions: bool = False
    wear: bool = False


class FacePipeline:
    """The face models of one process, loaded once, and the order in which a request runs them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.detector = FaceDetector(runtime)
        self.mesh = FaceMesh(runtime, with_iris=True)
        self.age_gender = AgeGenderEstimator(runtime)
        self.emotions = EmotionClassifier(runtime)
        # Smile, EyesOpen and MouthOpen curves: read by operations, fitted by scripts/fit_expression_curves.py
        self.expression_curves = ExpressionCurves.load(runtime.model_path("face-expression-curves"))
        self.wear = FaceWearEstimator(runtime)

    def analyze(self, rgb: np.ndarray, needs: Needs) -> list[FaceAnalysis]:
        """Find the faces of an image (the MAX_FACES largest) and measure what `needs` asks for on each."""
        faces = largest_faces(self.detector.find_faces(rgb))
        if len(faces) == 0:
            return []
        # Age, gender, expressions and wear read the detector's keypoints, not the mesh: they run on the shared
        # pool while this thread runs the mesh.
        submit = self.runtime.submit
        age_gender = submit(self.age_gender.estimate, rgb, faces.keypoints) if needs.age_gender else None
        emotions = submit(self.emotions.classify, rgb, faces.boxes, faces.keypoints) if needs.emotions else None
        wear = submit(self.wear.estimate, rgb, faces.boxes, faces.keypoints) if needs.wear else None
        meshes = self.mesh.find_landmarks(rgb, faces.boxes, faces.keypoints, with_iris=needs.iris)
        qualities = assess_quality(rgb, faces.boxes)
        count = len(faces)
        age_ranges: list[tuple[int, int] | None] = [None] * count
        male: list[float | None] = [None] * count
        if age_gender is not None:
            estimate = age_gender.result()
            age_ranges = [(int(low), int(high)) for low, high in estimate.age_range()]
            male = [float(p) for p in estimate.male_probability]
        expressions: list[dict[str, float] | None] = [None] * count
        if emotions is not None:
            expressions = [dict(zip(EMOTION_NAMES, map(float, row), strict=True)) for row in emotions.result()]
        worn: list[FaceWear | None] = list(wear.result()) if wear is not None else [None] * count
        return [
            FaceAnalysis(
                box=faces.boxes[i], score=float(faces.scores[i]), keypoints=faces.keypoints[i], mesh=meshes[i],
                geometry=face_geometry(meshes[i].points, meshes[i].eye_contours), quality=qualities[i],
                age_range=age_ranges[i], male_probability=male[i], emotions=expressions[i], wear=worn[i],
            )
            for i in range(count)
        ]


def largest_faces(faces: FaceBoxes, limit: int = MAX_FACES) -> FaceBoxes:
    """The `limit` largest faces, largest first."""
    areas = (faces.boxes[:, 2] - faces.boxes[:, 0]) * (faces.boxes[:, 3] - faces.boxes[:, 1])
    order = np.argsort(-areas, kind="stable")[:limit]
    return faces.take(order)
