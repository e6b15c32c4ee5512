"""The astronaut photo (ships with scikit-image) and its one face, found by Reko's own detector."""

from __future__ import annotations

import numpy as np
import pytest

from reko.vision.face_detector import FaceDetector
from reko.vision.types import FaceBoxes


@pytest.fixture(scope="session")
def astronaut_face(astronaut_rgb: np.ndarray) -> FaceBoxes:
    faces = FaceDetector().find_faces(astronaut_rgb)
    assert len(faces) == 1
    return faces
