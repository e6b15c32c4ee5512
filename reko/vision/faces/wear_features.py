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
    """The feature vector of one face.

    Args:
        rgb: (h, w, 3) uint8 image.
        keypoints: (5, 2) pixels of that face (eyes, nose tip, mouth corners, in image terms).

    Returns:
        (len(feature_names()),) float32; lightness on a 0-1 scale, colour in Lab units / 100.
    """
    face = align_face(rgb, keypoints, CANVAS_PX)
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2Lab).astype(np.float32)
    light = lab[..., 0] / 255.0
    gradient_x = np.abs(cv2.Sobel(light, cv2.CV_32F, 1, 0, ksize=3))
    gradient_y = np.abs(cv2.Sobel(light, cv2.CV_32F, 0, 1, ksize=3))
    cheek = np.concatenate([lab[y0:y1, x0:x1].reshape(-1, 3) for x0, y0, x1, y1 in _CHEEKS_PX])
    cheek_lab = np.median(cheek, axis=0)
    skin = np.linalg.norm(lab - cheek_lab, axis=2) < _SKIN_DISTANCE_LAB
    cheek_light = cheek_lab[0] / 255.0

    values: list[float] = []
    for x0, y0, x1, y1 in REGIONS_PX.values():
        region = (slice(y0, y1), slice(x0, x1))
        mean_lab = lab[region].reshape(-1, 3).mean(axis=0)
        values += [
            float(light[region].mean()),
            float(light[region].mean() - cheek_light),
            float((mean_lab[1] - cheek_lab[1]) / 100.0),
            float((mean_lab[2] - cheek_lab[2]) / 100.0),
            float((gradient_x[region] + gradient_y[region]).mean()),
            float(gradient_y[region].mean()),
            float(light[region].std()),
            float(skin[region].mean()),
        ]
    eye_rows = gradient_y[:, slice(*_EYE_COLUMNS_PX)].mean(axis=1)
    values += [float(eye_rows[y : y + _EYE_ROWS_PX[2]].mean()) for y in range(*_EYE_ROWS_PX)]
    lower_rows = light[:, slice(*_LOWER_COLUMNS_PX)].mean(axis=1) - cheek_light
    values += [float(lower_rows[y : y + _LOWER_ROWS_PX[2]].mean()) for y in range(*_LOWER_ROWS_PX)]
    values += [float(cheek_light), float(np.hypot(cheek_lab[1] - 128.0, cheek_lab[2] - 128.0) / 100.0)]
    return np.asarray(values, np.float32)
