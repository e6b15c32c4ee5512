"""One place that runs the face models on an image and keeps what each `FaceDetail` member needs.

The engine makes one `FacePipeline` per process (ONNX Runtime sessions are shared and thread-safe); only the
models a request needs are run: DEFAULT skips age, gender, expressions, wear and the iris model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from reko.vision.faces.age_gender import AgeGenderEstimator, AgeGenderReading
from reko.vision.faces.detector import FaceDetector
from reko.vision.faces.embedder import FaceEmbedder, alignment_points
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
    age_range: tuple[int, int] | None = None  # inclusive years, drawn to hold the true age at a stated rate
    age_years: int | None = None  # the calibrated point estimate (benchmarks score it; Rekognition has none)
    male_probability: float | None = None  # the gender network's own; the reported value is its arg-max
    gender_confidence: float | None = None  # calibrated probability that the arg-max is right
    emotions: dict[str, float] | None = None  # FER class name -> probability
    wear: FaceWear | None = None
    embedding: np.ndarray | None = None  # (128,) float32 unit vector: cosine = dot product


@dataclass(frozen=True)
class Needs:
    """Which optional models a request needs."""

    iris: bool = False
    age_gender: bool = False
    emotions: bool = False
    wear: bool = False
    embedding: bool = False


WARM_UP_SIDE_PX = 256  # the grey image `FacePipeline.warm_up` runs the models on


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
        self.embedder = FaceEmbedder(runtime)

    def analyze(self, rgb: np.ndarray, needs: Needs, max_faces: int = MAX_FACES) -> list[FaceAnalysis]:
        """Find the faces of an image (the `max_faces` largest, largest first) and measure what `needs` asks for."""
        faces = largest_faces(self.detector.find_faces(rgb), max_faces)
        if len(faces) == 0:
            return []
        # The meshes run on the pool (`FaceMesh.start_landmarks`) while this thread runs age, gender and wear,
        # which read the detector's keypoints, not the mesh. Wear reads the age network's inner maps,
        # so when both are wanted they share one run (`_age_gender`).
        meshes_done = self.mesh.start_landmarks(rgb, faces.boxes, faces.keypoints, with_iris=needs.iris)
        # Expressions go to the pool too: for one face this thread's age and wear outlast the mesh and iris chain.
        fer = self.runtime.submit(self.emotions.classify, rgb, faces.boxes, faces.keypoints) if needs.emotions else None
        reading, worn = self._age_gender(rgb, faces, needs.wear) if needs.age_gender else (None, None)
        if needs.wear and not needs.age_gender:
            worn = self.wear.estimate(rgb, faces.boxes, faces.keypoints)
        qualities = assess_quality(rgb, faces.boxes)
        meshes = meshes_done()
        # The embedder is pinned at mesh points, not the detector's (see `embedder.alignment_points`), so it waits
        # for the mesh; it runs here, spreading several faces over the pool itself.
        vectors: list[np.ndarray | None] = [None] * len(faces)
        if needs.embedding:
            vectors = list(self.embedder.embed(rgb, np.stack([alignment_points(mesh.points) for mesh in meshes])))
        count = len(faces)
        ages = _age_gender_members(reading, count)
        expressions: list[dict[str, float] | None] = [None] * count
        if fer is not None:
            expressions = [dict(zip(EMOTION_NAMES, map(float, row), strict=True)) for row in fer.result()]
        return [
            FaceAnalysis(
                box=faces.boxes[i], score=float(faces.scores[i]), keypoints=faces.keypoints[i], mesh=meshes[i],
                geometry=face_geometry(meshes[i].points, meshes[i].eye_contours), quality=qualities[i],
                **ages[i], emotions=expressions[i], wear=worn[i] if worn else None, embedding=vectors[i],
            )
            for i in range(count)
        ]

    def _age_gender(
        self, rgb: np.ndarray, faces: FaceBoxes, with_wear: bool
    ) -> tuple[AgeGenderReading, list[FaceWear] | None]:
        """Age and gender, and wear from the same age-network run when it is wanted too."""
        reading, maps = self.age_gender.read_with_texture(rgb, faces.keypoints)
        worn = self.wear.estimate(rgb, faces.boxes, faces.keypoints, texture_maps=maps) if with_wear else None
        return reading, worn

    def warm_up(self) -> None:
        """Run every face model once on a grey image with one made-up face, results discarded.

        ONNX Runtime allocates a session's buffers on its first run: the first `Attributes=["ALL"]` request after
        start took 137 ms where the next took 28 ms (2 cores); the server runs this before /health says ready.
        """
        rgb = np.full((WARM_UP_SIDE_PX, WARM_UP_SIDE_PX, 3), 128, np.uint8)
        boxes = np.array([[78.0, 78.0, 178.0, 178.0]], np.float32)
        keypoints = np.array([[[103, 113], [153, 113], [128, 138], [108, 160], [148, 160]]], np.float32)
        self.detector.find_faces(rgb)
        self.age_gender.read(rgb, keypoints)
        self.emotions.classify(rgb, boxes, keypoints)
        self.wear.estimate(rgb, boxes, keypoints)
        meshes = self.mesh.find_landmarks(rgb, boxes, keypoints, with_iris=True)
        self.embedder.embed(rgb, alignment_points(meshes[0].points)[None])

    def embed(self, rgb: np.ndarray, face: FaceAnalysis) -> FaceAnalysis:
        """`face` of `rgb` with its embedding, for an operation that searches one chosen face of several
        (SearchUsersByImage): SFace costs ~22 ms a face on 2 threads, so only that one is embedded."""
        (vector,) = self.embedder.embed(rgb, alignment_points(face.mesh.points)[None])
        return dataclasses.replace(face, embedding=vector)


def _age_gender_members(reading: AgeGenderReading | None, count: int) -> list[dict[str, Any]]:
    """The age and gender fields of each `FaceAnalysis` (all None when the request did not need them)."""
    if reading is None:
        return [{}] * count
    return [
        {
            "age_range": (int(reading.age_range[i, 0]), int(reading.age_range[i, 1])),
            "age_years": int(reading.age_years[i]),
            "male_probability": float(reading.male_probability[i]),
            "gender_confidence": float(reading.gender_confidence[i]),
        }
        for i in range(count)
    ]


def largest_faces(faces: FaceBoxes, limit: int = MAX_FACES) -> FaceBoxes:
    """The `limit` largest faces, largest first."""
    areas = (faces.boxes[:, 2] - faces.boxes[:, 0]) * (faces.boxes[:, 3] - faces.boxes[:, 1])
    order = np.argsort(-areas, kind="stable")[:limit]
    return faces.take(order)
