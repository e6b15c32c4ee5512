"""The astronaut photo (ships with scikit-image) and its one face, found by Reko's own detector."""

from __future__ import annotations

import numpy as np
import pytest

from reko.vision.faces.detector import FaceDetector
from reko.vision.types import FaceBoxes
from tests.conftest import shared_runtime


@pytest.fixture(scope="session")
def astronaut_face(astronaut_rgb: np.ndarray) -> FaceBoxes:
    faces = FaceDetector(shared_runtime()).find_faces(astronaut_rgb)
    assert len(faces) == 1
    return faces
