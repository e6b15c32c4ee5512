"""Face embeddings for comparison and search: SFace (OpenCV Zoo 2021dec), 128 numbers a face.

SFace reads a 112x112 face warped by a 5-point similarity transform onto ArcFace's template, as OpenCV's
`FaceRecognizerSF.alignCrop` does, 0-255 values in NCHW. OpenCV feeds the crop it made in BGR through
`blobFromImage(..., swapRB=True)`, so the network sees RGB. Rows are L2-normalised, so the cosine of two faces
is their dot product. The faces of a photo run as one batch (the prepared model has a symbolic batch).

Which 5 points place the face: `alignment_points` takes them from the FaceMesh (eye-contour centres, nose tip,
mouth corners) rather than the detector's keypoints. Measured on LFW folds 1-2 (1,583 images, 1,973 genuine and
1,250,180 impostor pairs; `python -m bench.face_compare --variants`), the 2-fold accuracy is the same (99.67 %) but
the true-accept rate at a false-accept rate of 1e-4 rises from 97.47 % (detector points) to 98.18 % (mesh points),
95.84 % -> 96.86 % at 1e-5; at 1e-4, 21 genuine pairs are accepted only with mesh points, 7 only with detector
points. Feeding BGR instead of RGB drops it to 97.26 %; adding the mirrored crop's embedding gains 0.05 points for
twice the network time, so it is not done. The choice was made on the same images the Similarity anchors are
fitted on (there is no other verification set in ../shared/data).
"""

from __future__ import annotations

import cv2
import numpy as np

from reko.vision.faces.align import ARCFACE_TEMPLATE_112, similarity_transform
from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime

INPUT_PX = 112
EMBEDDING_SIZE = 128
# FaceMesh (MediaPipe 468-point topology) points whose mean is each alignment point, in Reko's keypoint order: the
# image-left eye's contour, the image-right eye's contour, the nose tip, the image-left and image-right mouth corner.
# The eyes are the same mesh points as Rekognition's eyeLeft / eyeRight landmarks.
MESH_POINTS_BY_ALIGNMENT_POINT: tuple[tuple[int, ...], ...] = (
    (7, 159, 157, 243, 153, 145),
    (382, 385, 387, 249, 373, 380),
    (4,),
    (61,),
    (291,),
)


class FaceEmbedder:
    """SFace (MobileFaceNet-style, Apache-2.0) through ONNX Runtime on the pool's threads."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._session = runtime.session("face-embedder")  # one face: all the runtime's threads on it
        self._per_face_session = runtime.session("face-embedder", SMALL_MODEL_THREADS)
        self._input = self._session.get_inputs()[0].name

    def embed(self, rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        """Unit-length embeddings of the faces (see `embed_crops` for how they run).

        Args:
            rgb: (h, w, 3) uint8 image.
            keypoints: (n, 5, 2) pixels in Reko's keypoint order (see `types.FaceBoxes`); `alignment_points`
                of the face's mesh are the measured best choice.

        Returns:
            (n, 128) float32, each row of L2 norm 1.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (h, w, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        if keypoints.ndim != 3 or keypoints.shape[1:] != (5, 2):
            raise ValueError(f"expected (n, 5, 2) keypoints, got {keypoints.shape}")
        if len(keypoints) == 0:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        return self.embed_crops(np.stack([aligned_crop(rgb, points) for points in keypoints]))

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """Unit-length embeddings of (n, 112, 112, 3) uint8 RGB aligned crops.

        One face runs on all the runtime's threads; several run one face per core on the shared pool, so this
        must not be called from a pool task. Measured on 2 cores for 20 faces: one batch of 20 took 351 ms and
        +300 MB of ONNX Runtime arena, chunks of 4 338 ms, one face per core 307 ms with no arena growth.
        """
        if crops.ndim != 4 or crops.shape[1:] != (INPUT_PX, INPUT_PX, 3):
            raise ValueError(f"expected (n, {INPUT_PX}, {INPUT_PX}, 3) crops, got {crops.shape}")
        batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), np.float32)
        if len(batch) == 1:
            (vectors,) = self._session.run(None, {self._input: batch})
        else:
            feeds = [{self._input: batch[i : i + 1]} for i in range(len(batch))]
            vectors = np.vstack([output[0] for output in self._runtime.run_each(self._per_face_session, feeds)])
        vectors = np.asarray(vectors, np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def alignment_points(mesh_points: np.ndarray) -> np.ndarray:
    """(5, 2) float32 pixels: where `embed` should pin a face, from its (478, 3) or (468, 3) mesh points."""
    if mesh_points.ndim != 2 or mesh_points.shape[0] < 468 or mesh_points.shape[1] < 2:
        raise ValueError(f"expected (478, 3) mesh points, got {mesh_points.shape}")
    xy = np.asarray(mesh_points[:, :2], np.float64)
    return np.stack([xy[list(indices)].mean(axis=0) for indices in MESH_POINTS_BY_ALIGNMENT_POINT]).astype(np.float32)


def aligned_crop(rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """(112, 112, 3) uint8 RGB: the face warped onto the ArcFace template by a similarity transform."""
    matrix = similarity_transform(keypoints, ARCFACE_TEMPLATE_112, INPUT_PX)
    return cv2.warpAffine(rgb, matrix, (INPUT_PX, INPUT_PX), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
