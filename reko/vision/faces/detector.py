"""Finding faces: boxes, confidences and five keypoints, with YuNet run through ONNX Runtime."""

from __future__ import annotations

import cv2
import numpy as np

from reko.vision.boxes import non_maximum_suppression
from reko.vision.runtime import Runtime
from reko.vision.types import FaceBoxes

YUNET_STRIDES = (8, 16, 32)
YUNET_SIZE_MULTIPLE_PX = 32  # the coarsest stride: the padded input must be a multiple of it
# Smallest face YuNet finds reliably at the scale it sees the image (longer box side, measured on WIDER).
YUNET_RELIABLE_FACE_PX = 20.0

# Chosen on wider-200 and mask-50 (bench/face_detection.py): about the lowest threshold keeping precision
# >= 85 % on both sets with the two-pass policy; 0.6 drops mask-50 precision to about 0.80, while 0.8 costs
# about 5 (mask-50) to 11 (wider-200) points of recall.
DEFAULT_SCORE_THRESHOLD = 0.7
DEFAULT_NMS_IOU = 0.3
DEFAULT_WORKING_SIDE_PX = 640
DEFAULT_MIN_FACE_PX = 10.0
DEFAULT_SMALL_FACE_PX = 40.0
DEFAULT_MAX_PASS_PIXELS = 1_600_000


class FaceDetector:
    """Face boxes, scores and 5 keypoints from YuNet 2023mar (libfacedetection; OpenCV Zoo weights).

    YuNet is a fully convolutional 75 k-parameter detector with anchor-free heads at strides 8, 16 and 32,
    so it runs on the image at whatever size it is given and finds faces from about 20 px up. The scale
    policy works around that floor without slowing ordinary photos:

    1. A first pass at a working size (the longer side brought down to `working_side_px`; small images are
       not enlarged): about 11 ms of CPU time for a 640x480 photo, 4x that for the enlarged pass.
    2. A second, enlarged pass (enough to make a `min_face_px` face look `YUNET_RELIABLE_FACE_PX` tall,
       capped at `max_pass_pixels`) only when small faces are plausible: the first pass found a face
       smaller than `small_face_px`, or found nothing at all. A portrait or a one-face photo stops after
       the first pass.

    Both passes are merged with non-maximum suppression. Returned coordinates are in the input's pixels.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        nms_iou: float = DEFAULT_NMS_IOU,
        working_side_px: int = DEFAULT_WORKING_SIDE_PX,
        min_face_px: float = DEFAULT_MIN_FACE_PX,
        small_face_px: float = DEFAULT_SMALL_FACE_PX,
        max_pass_pixels: int = DEFAULT_MAX_PASS_PIXELS,
    ) -> None:
        """Set the detection knobs.

        Args:
            score_threshold: minimum YuNet confidence (sqrt of class x objectness) to keep a face.
            nms_iou: overlap above which the lower-scored of two boxes is dropped.
            working_side_px: longer side the first pass shrinks large images to.
            min_face_px: smallest face (longer side, input pixels) the enlarged pass is sized to find;
                smaller boxes are dropped (mostly misplaced boxes on crowds). 0 disables the enlarged pass.
            small_face_px: a first-pass face smaller than this (longer side, working pixels) means the
                image may hold faces too small for that pass, and triggers the enlarged one.
            max_pass_pixels: cap on the area of any pass, which bounds time and memory on huge images.
        """
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.working_side_px = working_side_px
        self.min_face_px = min_face_px
        self.small_face_px = small_face_px
        self.max_pass_pixels = max_pass_pixels
        self._session = runtime.session("face-detector")

    def find_faces(self, rgb: np.ndarray) -> FaceBoxes:
        """Find every face in an image.

        Args:
            rgb: (H, W, 3) uint8 RGB image.

        Returns:
            Faces sorted by descending score, in the input image's pixels.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
        height, width = rgb.shape[:2]
        first_scale = min(1.0, self.working_side_px / max(height, width), self._area_cap(height, width))
        found = [self.find_faces_at(rgb, first_scale)]
        second_scale = self._enlarged_scale(height, width, first_scale, found[0])
        if second_scale is not None:
            found.append(self.find_faces_at(rgb, second_scale))
        faces = _non_maximum_suppression(_concatenate(found), self.nms_iou)
        sides = np.maximum(faces.boxes[:, 2] - faces.boxes[:, 0], faces.boxes[:, 3] - faces.boxes[:, 1])
        return _sorted(faces.take(np.flatnonzero(sides >= self.min_face_px)))

    def find_faces_at(self, rgb: np.ndarray, scale: float) -> FaceBoxes:
        """One YuNet pass on the RGB image resized by `scale`; faces in the unscaled image's pixels."""
        height, width = rgb.shape[:2]
        scaled_width, scaled_height = max(1, round(width * scale)), max(1, round(height * scale))
        if (scaled_width, scaled_height) != (width, height):
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            rgb = cv2.resize(rgb, (scaled_width, scaled_height), interpolation=interpolation)
        tensor = yunet_input(rgb)
        faces = yunet_boxes(self._session.run(None, {"input": tensor}), tensor, self.score_threshold, self.nms_iou)
        factors = np.array([width / scaled_width, height / scaled_height], np.float32)
        return FaceBoxes(
            boxes=faces.boxes * np.tile(factors, 2),
            scores=faces.scores,
            keypoints=_image_ordered(faces.keypoints * factors),
        )

    def _area_cap(self, height: int, width: int) -> float:
        return float(np.sqrt(self.max_pass_pixels / (height * width)))

    def _enlarged_scale(self, height: int, width: int, first_scale: float, found: FaceBoxes) -> float | None:
        """The scale of the second pass, or None when the first pass already covers every likely face."""
        if self.min_face_px <= 0:
            return None
        if len(found):
            sides = np.maximum(found.boxes[:, 2] - found.boxes[:, 0], found.boxes[:, 3] - found.boxes[:, 1])
            if float(sides.min()) * first_scale >= self.small_face_px:
                return None
        scale = min(YUNET_RELIABLE_FACE_PX / self.min_face_px, self._area_cap(height, width))
        return scale if scale > first_scale * 1.25 else None


def yunet_input(rgb: np.ndarray) -> np.ndarray:
    """YuNet's (1, 3, H, W) float32 input of an RGB image: BGR 0-255, zero-padded at the bottom and right to a
    multiple of its coarsest stride, as OpenCV's runner does (one plane at a time is ~6x faster than a strided
    transpose of the whole image)."""
    height, width = rgb.shape[:2]
    padded_height = -(-height // YUNET_SIZE_MULTIPLE_PX) * YUNET_SIZE_MULTIPLE_PX
    padded_width = -(-width // YUNET_SIZE_MULTIPLE_PX) * YUNET_SIZE_MULTIPLE_PX
    tensor = np.zeros((1, 3, padded_height, padded_width), np.float32)
    for plane in range(3):
        tensor[0, plane, :height, :width] = rgb[:, :, 2 - plane]
    return tensor


def yunet_boxes(outputs: list[np.ndarray], tensor: np.ndarray, score_threshold: float, nms_iou: float) -> FaceBoxes:
    """Boxes of a YuNet-shaped graph's outputs (in `YUNET_OUTPUT_NAMES` order) for its input `tensor`, decoded and
    suppressed, in the tensor's pixels. The face detector and PPE's head-tuned copy of it (`ppe.heads`) share it."""
    named = dict(zip(YUNET_OUTPUT_NAMES, outputs, strict=True))
    return _non_maximum_suppression(_decode(named, tensor.shape[2], tensor.shape[3], score_threshold), nms_iou)


YUNET_OUTPUT_NAMES = tuple(
    f"{head}_{stride}" for head in ("cls", "obj", "bbox", "kps") for stride in YUNET_STRIDES
)


def _decode(outputs: dict[str, np.ndarray], height: int, width: int, score_threshold: float) -> FaceBoxes:
    """Turn YuNet's per-cell heads into boxes and keypoints, as libfacedetection's post-processing does.

    Each cell of a stride-s grid predicts a centre offset and log size (in units of s) and 5 keypoint
    offsets; its confidence is sqrt(class x objectness).
    """
    found = []
    for stride in YUNET_STRIDES:
        columns = width // stride
        classes = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
        scores = np.sqrt(classes * np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1))
        cells = np.flatnonzero(scores >= score_threshold)
        if not len(cells):
            continue
        anchors = np.stack([cells % columns, cells // columns], axis=1).astype(np.float32)
        regression = outputs[f"bbox_{stride}"][0, cells]
        centres = (anchors + regression[:, :2]) * stride
        sizes = np.exp(regression[:, 2:4]) * stride
        keypoints = (outputs[f"kps_{stride}"][0, cells].reshape(-1, 5, 2) + anchors[:, None, :]) * stride
        found.append(
            FaceBoxes(
                boxes=np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1).astype(np.float32),
                scores=scores[cells].astype(np.float32),
                keypoints=keypoints.astype(np.float32),
            )
        )
    return _concatenate(found)


def _image_ordered(keypoints: np.ndarray) -> np.ndarray:
    """Put each eye pair and mouth-corner pair in image order (left first).

    YuNet emits the subject's right eye and mouth corner first, which is the image's left for an upright
    face; sorting by x keeps the documented image-terms order also for faces seen upside down.
    """
    ordered = keypoints.copy()
    for first, second in ((0, 1), (3, 4)):
        swap = ordered[:, first, 0] > ordered[:, second, 0]
        ordered[swap, first], ordered[swap, second] = keypoints[swap, second], keypoints[swap, first]
    return ordered


def _non_maximum_suppression(faces: FaceBoxes, iou_threshold: float) -> FaceBoxes:
    """Greedy NMS (`boxes.non_maximum_suppression`) on whole faces, best score first."""
    return faces.take(non_maximum_suppression(faces.boxes, faces.scores, iou_threshold))


def _sorted(faces: FaceBoxes) -> FaceBoxes:
    return faces.take(np.argsort(-faces.scores, kind="stable"))


def _concatenate(parts: list[FaceBoxes]) -> FaceBoxes:
    if not parts:
        return FaceBoxes.empty()
    return FaceBoxes(
        boxes=np.concatenate([part.boxes for part in parts]),
        scores=np.concatenate([part.scores for part in parts]),
        keypoints=np.concatenate([part.keypoints for part in parts]),
    )
