"""Measured appearance of the bands of an upright face where glasses, facial hair and covers show.

Every number comes from the aligned face (see `face_align`): brightness, colour and edge strength of
the eye, nose-bridge, brow, cheek, upper-lip, mouth, chin and jaw bands, each also relative to the
cheeks so that skin tone and lighting cancel, plus row profiles of horizontal-edge strength across the
eyes (spectacle frames) and of darkness down the lower face (moustache, beard, a mask's edge).
The wear estimators fit a logistic regression on these features.
"""

from __future__ import annotations

import cv2
import numpy as np

from reko.vision.faces.align import CANVAS_PX, align_face

# (x0, y0, x1, y1) on the CANVAS_PX canvas; eyes sit near y=30, nose tip y=47, mouth y=64, chin y=90.
REGIONS_PX: dict[str, tuple[int, int, int, int]] = {
    "eye_left": (24, 23, 43, 37),
    "eye_right": (53, 23, 72, 37),
    "bridge": (44, 24, 52, 36),
    "brow": (22, 16, 74, 24),
    "under_eye": (22, 36, 74, 42),
    "temple_left": (10, 24, 22, 36),
    "temple_right": (74, 24, 86, 36),
    "forehead": (34, 4, 62, 16),
    "nose": (42, 38, 54, 50),
    "upper_lip": (38, 53, 58, 61),
    "mouth": (36, 60, 60, 70),
    "chin": (36, 72, 60, 90),
    "jaw_left": (20, 62, 34, 84),
    "jaw_right": (62, 62, 76, 84),
}
_CHEEKS_PX = ((24, 44, 38, 56), (58, 44, 72, 56))
_EYE_ROWS_PX = (14, 46, 2)  # first row, end row, step: rows crossed by spectacle frames
_EYE_COLUMNS_PX = (22, 74)
_LOWER_ROWS_PX = (48, 94, 4)  # nose to chin, down the middle of the face
_LOWER_COLUMNS_PX = (36, 60)
_SKIN_DISTANCE_LAB = 18.0  # a pixel within this Lab distance of the cheek colour counts as skin
_PER_REGION = ("light", "light_vs_cheek", "a_vs_cheek", "b_vs_cheek", "edges", "row_edges", "spread", "skin")


def feature_names() -> list[str]:
    """Names of the entries of `wear_features`' vector, in order (stored beside the fitted weights)."""
    names = [f"{region}.{kind}" for region in REGIONS_PX for kind in _PER_REGION]
    names += [f"eye_row_edges.{y}" for y in range(*_EYE_ROWS_PX)]
    names += [f"lower_row_light.{y}" for y in range(*_LOWER_ROWS_PX)]
    names += ["cheek.light", "cheek.chroma"]
    return names


def wear_features(rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The feature vector of one face (`faces_wear_features` for a single face)."""
    return faces_wear_features(rgb, keypoints[None])[0]


def faces_wear_features(rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The feature vectors of several faces of one image, each statistic taken over all faces at once.

    One face at a time cost 1.5 ms, most of it ~115 small NumPy reductions (9 faces: 13.5 ms CPU); over the
    stacked canvases the count of reductions no longer grows with the faces.

    Args:
        rgb: (h, w, 3) uint8 image.
        keypoints: (n, 5, 2) pixels of the faces (eyes, nose tip, mouth corners, in image terms).

    Returns:
        (n, len(feature_names())) float32; lightness on a 0-1 scale, colour in Lab units / 100.
    """
    count = len(keypoints)
    if count == 0:
        return np.zeros((0, len(feature_names())), np.float32)
    faces = np.stack([align_face(rgb, points, CANVAS_PX) for points in keypoints])
    # Colour conversion is per pixel, so the faces go through as one tall image.
    lab = cv2.cvtColor(faces.reshape(-1, CANVAS_PX, 3), cv2.COLOR_RGB2Lab).reshape(faces.shape).astype(np.float32)
    light = lab[..., 0] / 255.0
    edges_x = np.stack([np.abs(cv2.Sobel(face, cv2.CV_32F, 1, 0, ksize=3)) for face in light])
    edges_y = np.stack([np.abs(cv2.Sobel(face, cv2.CV_32F, 0, 1, ksize=3)) for face in light])
    cheek = np.concatenate([lab[:, y0:y1, x0:x1].reshape(count, -1, 3) for x0, y0, x1, y1 in _CHEEKS_PX], axis=1)
    cheek_lab = np.median(cheek, axis=1)  # (n, 3)
    skin = np.linalg.norm(lab - cheek_lab[:, None, None, :], axis=3) < _SKIN_DISTANCE_LAB
    cheek_light = cheek_lab[:, 0] / 255.0

    columns: list[np.ndarray] = []
    for x0, y0, x1, y1 in REGIONS_PX.values():
        region = (slice(None), slice(y0, y1), slice(x0, x1))
        mean_lab = lab[region].reshape(count, -1, 3).mean(axis=1)
        mean_light = light[region].mean(axis=(1, 2))
        columns += [
            mean_light,
            mean_light - cheek_light,
            (mean_lab[:, 1] - cheek_lab[:, 1]) / 100.0,
            (mean_lab[:, 2] - cheek_lab[:, 2]) / 100.0,
            (edges_x[region] + edges_y[region]).mean(axis=(1, 2)),
            edges_y[region].mean(axis=(1, 2)),
            light[region].std(axis=(1, 2)),
            skin[region].mean(axis=(1, 2)),
        ]
    eye_rows = edges_y[:, :, slice(*_EYE_COLUMNS_PX)].mean(axis=2)
    columns += [eye_rows[:, y : y + _EYE_ROWS_PX[2]].mean(axis=1) for y in range(*_EYE_ROWS_PX)]
    lower_rows = light[:, :, slice(*_LOWER_COLUMNS_PX)].mean(axis=2) - cheek_light[:, None]
    columns += [lower_rows[:, y : y + _LOWER_ROWS_PX[2]].mean(axis=1) for y in range(*_LOWER_ROWS_PX)]
    columns += [cheek_light, np.hypot(cheek_lab[:, 1] - 128.0, cheek_lab[:, 2] - 128.0) / 100.0]
    return np.stack(columns, axis=1).astype(np.float32)
