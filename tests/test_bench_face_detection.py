"""The matched-operating-point sweep answers exactly as the shipped detector would at each threshold."""

from __future__ import annotations

import numpy as np
import pytest

from bench.face_detection import SweptFaceDetector, read_rgb
from reko.vision.faces.detector import FaceDetector
from tests.conftest import SHARED_DATA, needs_shared_data, shared_runtime

# A crowd (two passes at low thresholds) and a mask photo (larger faces).
IMAGES = (
    "faces/wider_val_200_416/images/7_Cheering_Cheering_7_138.jpg",
    "ppe/face_mask_detection/images/maksssksksss0.png",
)
THRESHOLDS = np.array([0.3, 0.5, 0.7, 0.9])


@needs_shared_data("faces", "wider_val_200_416")
@needs_shared_data("ppe", "face_mask_detection")
@pytest.mark.parametrize("image", IMAGES)
def test_sweep_matches_a_detector_built_at_each_threshold(image: str) -> None:
    rgb = read_rgb(SHARED_DATA / image)
    swept = SweptFaceDetector(shared_runtime(), lowest_threshold=0.3).at_thresholds(rgb, THRESHOLDS)
    for threshold, faces in zip(THRESHOLDS, swept, strict=True):
        expected = FaceDetector(shared_runtime(), score_threshold=float(threshold)).find_faces(rgb)
        np.testing.assert_array_equal(faces.boxes, expected.boxes)
        np.testing.assert_array_equal(faces.scores, expected.scores)
