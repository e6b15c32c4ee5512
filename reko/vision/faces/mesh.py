"""Dense 3D face landmarks: MediaPipe FaceMesh (468 points) refined by MediaPipe Iris (10 points).

The mesh model wants a face that fills its 192x192 input, upright, so each detected face is cut out of
the image as a square around its box, rotated so that the eyes are level, then the points are mapped back.
An optional second pass re-crops around the first pass's points, as MediaPipe's own tracking does; it is
off by default (on AFW it moved the 5-point NME from 4.01 % to 3.99 % for twice the time). The iris model
then runs on a 64x64 crop around each eye (the image-right eye mirrored, since the model only knows one
side) and adds the iris centre and four rim points; it also redraws each eye's contour (lids, two halos
and the brow, 71 points) more finely than the mesh does, kept apart as `FaceMeshResult.eye_contours`.

Point order is MediaPipe's 478-point topology: 0-467 the mesh, 468-472 the iris of the eye at mesh
points 33/133 (the image-left eye in an unmirrored photo; centre first), 473-477 the other iris.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np
import onnxruntime as ort

from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime

# The bundled graphs with a symbolic batch (`batching.symbolic_batch`): a core runs its share of faces at once.
MESH_MODEL = "face-mesh-batched"
IRIS_MODEL = "face-mesh-iris-batched"
# Chunks of faces per pool worker: finer chunks balance the cores better while other tasks of the request run,
# coarser ones batch more (a batch of 9 eye crops cost 8 % less CPU than 9 single runs).
CHUNKS_PER_WORKER = 2
T = TypeVar("T")
MESH_INPUT_PX = 192
IRIS_INPUT_PX = 64
MESH_POINTS = 468
IRIS_POINTS = 5
EYE_CONTOUR_POINTS = 71
# Positions in the iris model's 71-point eye contour (MediaPipe's order, the same for both eyes once the
# mirrored eye is mapped back): the lower lid runs corner to corner, the upper lid between the corners.
EYE_CONTOUR_CORNERS = (0, 8)  # mesh 33 and 133 for the image-left eye, 263 and 362 for the other
EYE_CONTOUR_LOWER_LID = (1, 2, 3, 4, 5, 6, 7)
EYE_CONTOUR_UPPER_LID = (9, 10, 11, 12, 13, 14, 15)
ALL_POINTS = MESH_POINTS + 2 * IRIS_POINTS
# Crop side over the detector (YuNet) box's longer side: the lowest AFW NME of 1.2 / 1.3 / 1.4 / 1.5 / 1.8.
DEFAULT_BOX_CROP_SCALE = 1.3
# YuNet boxes reach higher up the forehead than the mesh's training crops: move the crop centre down by
# this fraction of its side (along the face's own down direction); 0.05 cut the AFW NME from 4.14 to 4.01 %.
DEFAULT_CROP_SHIFT = 0.05
# Crop side as a multiple of the first pass's landmark extent (MediaPipe's tracking value).
LANDMARK_CROP_SCALE = 1.5
IRIS_CROP_SCALE = 2.3  # crop side / eye-corner distance, as MediaPipe's iris graph uses
# Mesh points that bound each eye: (outer-or-inner corner, other corner) from MediaPipe's iris graph.
EYE_CORNERS_A = (33, 133)  # image-left eye in an unmirrored photo
EYE_CORNERS_B = (362, 263)
EYE_LINE = (33, 263)  # outer eye corners, for the eye-line angle of the second pass


@dataclass(frozen=True)
class FaceMeshResult:
    """The mesh of one face.

    Attributes:
        points: (478, 3) float32; x, y in pixels of the full image, z in the same pixel scale (smaller is
            nearer the camera, centred near the face's middle depth).
        presence: the model's face-presence probability in [0, 1] for the final crop.
        eye_contours: (2, 71, 3) float32 in the same pixels as `points`, the iris model's eye contours
            (image-left eye first; order as `EYE_CONTOUR_*`), or None when the iris model did not run.
            Its lids close fully on shut eyes, where the mesh's stay apart.
    """

    points: np.ndarray
    presence: float
    eye_contours: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.points.shape != (ALL_POINTS, 3):
            raise ValueError(f"points must be ({ALL_POINTS}, 3), got {self.points.shape}")
        if self.eye_contours is not None and self.eye_contours.shape != (2, EYE_CONTOUR_POINTS, 3):
            raise ValueError(f"eye_contours must be (2, {EYE_CONTOUR_POINTS}, 3), got {self.eye_contours.shape}")


@dataclass(frozen=True)
class _Crop:
    """A rotated square of the image: crop pixel u maps to image point centre + R @ (u - half) * scale."""

    centre: np.ndarray  # (2,) px
    side_px: float
    angle_rad: float  # rotation of the crop's x axis in the image, clockwise-positive (image y down)
    input_px: int

    def to_image(self) -> np.ndarray:
        """(2, 3) affine matrix from crop pixels to image pixels."""
        scale = self.side_px / self.input_px
        cos, sin = np.cos(self.angle_rad) * scale, np.sin(self.angle_rad) * scale
        half = self.input_px / 2
        rotation = np.array([[cos, -sin], [sin, cos]])
        offset = self.centre - rotation @ np.array([half, half])
        return np.hstack([rotation, offset[:, None]])

    def cut(self, rgb: np.ndarray, mirror: bool = False) -> np.ndarray:
        """The crop as float32 NHWC in [0, 1], optionally mirrored left-right."""
        matrix = self.to_image()
        if mirror:
            flip = np.array([[-1.0, 0.0, self.input_px], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            matrix = matrix @ flip
        patch = cv2.warpAffine(
            rgb, matrix, (self.input_px, self.input_px),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
        )
        return (patch.astype(np.float32) / 255.0)[None]

    def points_to_image(self, points: np.ndarray, mirror: bool = False) -> np.ndarray:
        """Map (k, 3) crop-pixel points (x, y, z) into image pixels; z is scaled like x and y."""
        local = points.astype(np.float64).copy()
        if mirror:
            local[:, 0] = self.input_px - local[:, 0]
        matrix = self.to_image()
        out = np.empty_like(local)
        out[:, :2] = local[:, :2] @ matrix[:, :2].T + matrix[:, 2]
        out[:, 2] = local[:, 2] * self.side_px / self.input_px
        return out


def _angle(start: np.ndarray, end: np.ndarray) -> float:
    return float(np.arctan2(end[1] - start[1], end[0] - start[0]))


def _sigmoid(logit: float) -> float:
    return float(0.5 * (1.0 + np.tanh(logit / 2)))  # no overflow for very negative logits


class FaceMesh:
    """MediaPipe FaceMesh + Iris (Apache-2.0, from the mediapipe 0.10.21 wheel) through ONNX Runtime.

    The faces of an image are shared out over the pool's cores in batches, and so are their eyes
    (`start_landmarks`).
    """

    def __init__(self, runtime: Runtime, box_crop_scale: float = DEFAULT_BOX_CROP_SCALE, refine: bool = False,
                 with_iris: bool = True, crop_shift: float = DEFAULT_CROP_SHIFT) -> None:
        """Args:
            runtime: sessions and the pool the crops of all faces run on.
            box_crop_scale: crop side over the detector box's longer side for the first pass.
            crop_shift: move the first crop's centre down the face by this fraction of its side.
            refine: run a second pass on a crop re-centred on the first pass's points.
            with_iris: run the iris model; without it points 468-477 are the eye-corner midpoints.
        """
        self.box_crop_scale = box_crop_scale
        self.refine = refine
        self.with_iris = with_iris
        self.crop_shift = crop_shift
        self._runtime = runtime
        self._mesh = runtime.session(MESH_MODEL, SMALL_MODEL_THREADS)
        self._iris = runtime.session(IRIS_MODEL, SMALL_MODEL_THREADS) if with_iris else None

    def find_landmarks(self, rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray,
                       with_iris: bool | None = None) -> list[FaceMeshResult]:
        """The mesh of every detected face (`start_landmarks`, waited for)."""
        return self.start_landmarks(rgb, boxes, keypoints, with_iris)()

    def start_landmarks(self, rgb: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray,
                        with_iris: bool | None = None) -> Callable[[], list[FaceMeshResult]]:
        """Start the meshes of every face on the pool; the returned function waits for them.

        The faces are shared out in up to two chunks per pool worker, each chunk's crops run as one batch,
        then its faces' eyes as one more batch on the same worker (the other eye mirrored in), so no worker
        waits for every mesh before the first iris starts and the caller's thread is free in the meantime (the
        face pipeline runs age, wear and expressions on it). Handing the eyes back to the pool as two more
        tasks instead gave the same answers at the same speed (A/B interleaved, 120 requests each, idle cores:
        one face with ALL 20.9 / 20.5 ms, the 9-face crowd 84.4 / 82.3 ms) for twice the tasks.

        Args:
            rgb: (H, W, 3) uint8 RGB image.
            boxes: (n, 4) face boxes, xyxy pixels.
            keypoints: (n, 5, 2) pixels in image terms (image-left eye, image-right eye, nose, mouth
                corners), as `types.FaceBoxes` holds them; the eyes set the crop's rotation.
            with_iris: override the constructor's choice for this call (the two iris runs cost about
                twice the mesh; callers that need no pupils or gaze can skip them).

        Returns:
            A function giving one `FaceMeshResult` per box, in the same order.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        keypoints = np.asarray(keypoints, np.float64).reshape(-1, 5, 2)
        if len(boxes) != len(keypoints):
            raise ValueError(f"{len(boxes)} boxes but {len(keypoints)} keypoint sets")
        iris = self.with_iris if with_iris is None else with_iris
        if iris and self._iris is None:
            self._iris = self._runtime.session(IRIS_MODEL, SMALL_MODEL_THREADS)
        iris_session = self._iris if iris else None
        crops = [self._box_crop(box, points) for box, points in zip(boxes, keypoints, strict=True)]
        chunk_count = CHUNKS_PER_WORKER * self._runtime.pool_workers
        started = [self._runtime.submit(self._mesh_chunk, rgb, chunk, iris_session)
                   for chunk in split_evenly(crops, chunk_count)]

        def results() -> list[FaceMeshResult]:
            found: list[FaceMeshResult] = []
            for chunk in started:
                meshes, eyes = chunk.result()
                if eyes is None:
                    found += [FaceMeshResult(np.vstack([mesh, _corner_midpoints(mesh)]).astype(np.float32), presence)
                              for mesh, presence in meshes]
                    continue
                for index, (mesh, presence) in enumerate(meshes):
                    (left_iris, left_contour), (right_iris, right_contour) = eyes[index], eyes[len(meshes) + index]
                    found.append(FaceMeshResult(
                        points=np.vstack([mesh, left_iris, right_iris]).astype(np.float32), presence=presence,
                        eye_contours=np.stack([left_contour, right_contour]).astype(np.float32),
                    ))
            return found

        return results

    def _mesh_chunk(
        self, rgb: np.ndarray, crops: Sequence[_Crop], iris_session: ort.InferenceSession | None
    ) -> tuple[list[tuple[np.ndarray, float]], list[tuple[np.ndarray, np.ndarray]] | None]:
        """The meshes of some faces (a pool task), then their eyes: every image-left eye, then every other."""
        meshes = self._run_meshes(rgb, crops)
        if self.refine:
            meshes = self._run_meshes(rgb, [_landmark_crop(mesh) for mesh, _ in meshes])
        if iris_session is None:
            return meshes, None
        # The model knows one eye only: the image-right eye is mirrored in and its points mirrored back.
        eyes = [_eye_crop(mesh, corners) for corners in (EYE_CORNERS_A, EYE_CORNERS_B) for mesh, _ in meshes]
        mirrored = [False] * len(meshes) + [True] * len(meshes)
        return meshes, _run_irises(rgb, eyes, mirrored, iris_session)

    def _box_crop(self, box: np.ndarray, keypoints: np.ndarray) -> _Crop:
        """The first crop: a square around the detector box, eye line level, nudged down the face."""
        side = self.box_crop_scale * float(max(box[2] - box[0], box[3] - box[1]))
        angle = _angle(keypoints[0], keypoints[1])
        down = np.array([-np.sin(angle), np.cos(angle)])  # the face's down direction in the image
        centre = (box[:2] + box[2:]) / 2 + down * self.crop_shift * side
        return _Crop(centre, side, angle, MESH_INPUT_PX)

    def _run_meshes(self, rgb: np.ndarray, crops: Sequence[_Crop]) -> list[tuple[np.ndarray, float]]:
        """(468, 3) image-pixel mesh and presence probability per crop, one batched run on this thread."""
        name = self._mesh.get_inputs()[0].name
        landmarks, flags = self._mesh.run(None, {name: np.concatenate([crop.cut(rgb) for crop in crops])})
        return [
            (crop.points_to_image(np.asarray(points, np.float64).reshape(MESH_POINTS, 3)),
             _sigmoid(float(np.ravel(flag)[0])))
            for crop, points, flag in zip(crops, landmarks, flags, strict=True)
        ]


def split_evenly(items: Sequence[T], most: int) -> list[Sequence[T]]:
    """`items` in at most `most` contiguous chunks whose sizes differ by at most one."""
    count = min(most, len(items))
    bounds = [round(index * len(items) / count) for index in range(count + 1)] if count else [0]
    return [items[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


def _eye_crop(mesh: np.ndarray, corners: tuple[int, int]) -> _Crop:
    """The iris model's square around one eye, its corners level."""
    start, end = mesh[corners[0], :2], mesh[corners[1], :2]
    side = max(IRIS_CROP_SCALE * float(np.linalg.norm(end - start)), 1.0)
    return _Crop((start + end) / 2, side, _angle(start, end), IRIS_INPUT_PX)


def _run_irises(
    rgb: np.ndarray, crops: Sequence[_Crop], mirrored: Sequence[bool], session: ort.InferenceSession
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per eye crop, one batched run: (5, 3) iris points and (71, 3) eye contour in image pixels."""
    name = session.get_inputs()[0].name
    batch = np.concatenate([crop.cut(rgb, mirror=mirror) for crop, mirror in zip(crops, mirrored, strict=True)])
    contours, irises = session.run(None, {name: batch})
    return [
        (crop.points_to_image(np.asarray(iris, np.float64).reshape(IRIS_POINTS, 3), mirror=mirror),
         crop.points_to_image(np.asarray(contour, np.float64).reshape(EYE_CONTOUR_POINTS, 3), mirror=mirror))
        for crop, mirror, contour, iris in zip(crops, mirrored, contours, irises, strict=True)
    ]


def _landmark_crop(mesh: np.ndarray) -> _Crop:
    """MediaPipe's tracking ROI: the landmarks' extent in the eye-level frame, scaled, squared."""
    angle = _angle(mesh[EYE_LINE[0], :2], mesh[EYE_LINE[1], :2])
    cos, sin = np.cos(angle), np.sin(angle)
    level = mesh[:, :2] @ np.array([[cos, -sin], [sin, cos]])  # rotate by -angle
    low, high = level.min(axis=0), level.max(axis=0)
    centre_level = (low + high) / 2
    centre = np.array([[cos, -sin], [sin, cos]]) @ centre_level
    side = LANDMARK_CROP_SCALE * float(max(high - low))
    return _Crop(centre, side, angle, MESH_INPUT_PX)


def _corner_midpoints(mesh: np.ndarray) -> np.ndarray:
    """Stand-in iris points (eye-corner midpoints) when the iris model is off."""
    centres = [(mesh[a] + mesh[b]) / 2 for a, b in (EYE_CORNERS_A, EYE_CORNERS_B)]
    return np.vstack([np.repeat(c[None], IRIS_POINTS, axis=0) for c in centres])
