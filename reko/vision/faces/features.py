"""Learnt texture features of faces, read from the middle of the dlib age network.

The age network (see `age_gender`) was trained on millions of faces; halfway through, its 128 feature maps
over the 64 px chip respond to frames, lenses, hair and covers, not yet only to age. Averaging each map over
four horizontal bands of the upright chip (forehead and brows; eyes and nose; upper lip; mouth and chin)
keeps where on the face a response sits, which the wear heads need, and gives 512 numbers per face; the
layers past these maps are cut off (`onnx_outputs`), so this costs about 1 ms a face on 2 CPU threads.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from reko.vision.catalog import ModelError
from reko.vision.faces import chips as face_chips
from reko.vision.faces.age_gender import AGE_CHIP_PX, CHANNEL_MEANS, CHIP_PADDING, PIXEL_SCALE
from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime

MODEL_NAME = "face-texture-features"
FEATURE_MAPS = 128
MAP_PX = 7
# [first, end) rows of the 7x7 maps averaged into each band, top (brows) to bottom (chin).
BANDS_ROWS: tuple[tuple[int, int], ...] = ((0, 2), (2, 4), (4, 5), (5, 7))


def texture_feature_names() -> list[str]:
    """Names of the columns of `texture_features`, in order (stored beside fitted weights)."""
    return [f"cnn.band{band}.map{channel}" for band in range(len(BANDS_ROWS)) for channel in range(FEATURE_MAPS)]


class FaceTextureFeatures:
    """The age network cut after its second stage (a prepared model of the catalogue)."""

    def __init__(self, runtime: Runtime) -> None:
        self._session = runtime.session(MODEL_NAME, SMALL_MODEL_THREADS)

    def extract(self, rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        return texture_features(self._session, rgb, keypoints)


def texture_features(session: ort.InferenceSession, rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Band-pooled mid-level feature maps for every face, in one network run.

    Args:
        session: the `face-texture-features` model.
        rgb: (h, w, 3) uint8 image.
        keypoints: (n, 5, 2) pixels in Reko's keypoint order (see `types.FaceBoxes`).

    Returns:
        (n, len(texture_feature_names())) float32, non-negative (the maps follow a ReLU).
    """
    if len(keypoints) == 0:
        return np.zeros((0, len(BANDS_ROWS) * FEATURE_MAPS), np.float32)
    chips = face_chips.extract_chips(rgb, keypoints, AGE_CHIP_PX, CHIP_PADDING)
    network_input = (chips.astype(np.float32) - CHANNEL_MEANS) * np.float32(PIXEL_SCALE)
    (maps,) = session.run(None, {"images": np.ascontiguousarray(network_input.transpose(0, 3, 1, 2))})
    return band_features(maps)


def band_features(maps: np.ndarray) -> np.ndarray:
    """(n, 128, 7, 7) texture maps -> (n, len(texture_feature_names())) band means."""
    maps = np.asarray(maps, np.float32)
    if maps.shape[1:] != (FEATURE_MAPS, MAP_PX, MAP_PX):
        raise ModelError(f"{MODEL_NAME}: expected (n, 128, 7, 7) maps, got {maps.shape}")
    bands = [maps[:, :, first:end].mean(axis=(2, 3)) for first, end in BANDS_ROWS]
    return np.concatenate(bands, axis=1)
