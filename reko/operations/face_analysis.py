"""One place that runs the face models on an image and keeps what each `FaceDetail` member needs.

Models are created once per process (ONNX Runtime sessions are shared and thread-safe) and only the models a
request needs are run: DEFAULT skips age, gender, expressions, wear and the iris model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from reko.vision import runtime
from reko.vision.age_gender import AgeGenderEstimator
from reko.vision.emotions import EMOTION_NAMES, EmotionClassifier
from reko.vision.face_detector import FaceDetector
from reko.vision.face_mesh import FaceMesh, FaceMeshResult
from reko.vision.face_quality import FaceQuality, assess_quality
from reko.vision.face_wear import FaceWear, estimate_wear
from reko.vision.head_pose import FaceGeometry, face_geometry
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


class FaceModels:
    """The face models of one process, loaded once."""

    def __init__(self) -> None:
        self.detector = FaceDetector()
        self.mesh = FaceMesh(with_iris=True)
        self.age_gender = AgeGenderEstimator()
        self.emotions = EmotionClassifier()


@functools.cache
def face_models() -> FaceModels:
    return FaceModels()


def largest_faces(faces: FaceBoxes, limit: int = MAX_FACES) -> FaceBoxes:
    """The `limit` largest faces, largest first."""
    areas = (faces.boxes[:, 2] - faces.boxes[:, 0]) * (faces.boxes[:, 3] - faces.boxes[:, 1])
    order = np.argsort(-areas, kind="stable")[:limit]
    return faces.take(order)


def analyze_faces(rgb: np.ndarray, needs: Needs) -> list[FaceAnalysis]:
    """Find the faces of an image and measure what `needs` asks for on each."""
    models = face_models()
    faces = largest_faces(models.detector.find_faces(rgb))
    if len(faces) == 0:
        return []
    # Age, gender, expressions and wear read the detector's keypoints, not the mesh: they run on the shared
    # pool while this thread runs the mesh.
    age_gender = runtime.submit(models.age_gender.estimate, rgb, faces.keypoints) if needs.age_gender else None
    emotions = runtime.submit(models.emotions.classify, rgb, faces.boxes, faces.keypoints) if needs.emotions else None
    wear = runtime.submit(estimate_wear, rgb, faces.boxes, faces.keypoints) if needs.wear else None
    meshes = models.mesh.find_landmarks(rgb, faces.boxes, faces.keypoints, with_iris=needs.iris)
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
