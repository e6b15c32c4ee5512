"""A fixed-length description of an image or a crop, for small heads trained by Reko (PPE covers, Custom Labels).

EfficientNet-Lite0's pooled features (1280 numbers) separate everyday visual categories well enough that a
logistic regression on them told helmet from bare head at 0.94 and mask from none at 0.86 on ground-truth crops
(DESIGN.md); training only such a head takes seconds on a CPU, where fine-tuning a network takes hours. The
means of two earlier stages, from the same pass, are added beside them (`MultiLevelFeatures`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from reko.vision.labels.classifier import EFFICIENTNET_LITE0_INPUT_PX, lite_tensor
from reko.vision.runtime import Runtime

IMAGE_FEATURES_DIMENSIONS = 1280
# Crops per ONNX Runtime call. Measured on 2 threads over 32 small crops: 8.0 ms a crop one at a time, 6.8 ms
# in batches of 8, 6.6 ms in 16, 7.3 ms in 32: beyond 8 the gain is noise and memory grows.
FEATURE_BATCH_SIZE = 8


FINE_MAP_CHANNELS = 112  # Lite0's stride-16 stage
FINE_MAP_STRIDE_PX = 16
COARSE_MAP_CHANNELS = 320  # Lite0's stride-32 stage
# The pooled 1280, then the mean of each map of Lite0's stride-16 (112) and stride-32 (320) stages.
MULTILEVEL_FEATURES_DIMENSIONS = IMAGE_FEATURES_DIMENSIONS + FINE_MAP_CHANNELS + COARSE_MAP_CHANNELS


class MultiLevelFeatures:
    """A crop described at three depths of EfficientNet-Lite0 (the `image-features-multilevel` model, one pass).

    The pooled features come from the network's last stage, shaped by ImageNet's classes; the means of two earlier
    stages keep more of what is local and generic (a strap across a face, an edge of a printed logo). On the
    face-mask crops of `bench/custom_labels_folds.py` (6 assignments of 5 folds grouped by photo, the real
    training code offline) Custom Labels' macro F1 rose from 0.889 ± 0.033 to 0.928 ± 0.020 with them (5 of 6
    assignments higher, one equal); on helmet / bare-head crops of the hard-hat set (3 assignments) from 0.815 to
    0.826, within the noise. For HEAD_COVER (`scripts/train_ppe_covers.py`'s grouped folds) calibrated log-loss
    went from 0.165 to 0.153 (HEAD_COVER has since been fine-tuned from the stride-16 map this pass returns,
    `ppe-head-cover`); for HAND_COVER it did not move (0.377 / 0.380), so that head reads the pooled part.

    The first `IMAGE_FEATURES_DIMENSIONS` columns are the pooled features alone (what Custom Labels' classifiers of
    earlier formats and the hand-cover head were fitted on). Unlike `ImageClassifier`, which evaluates the centre
    crop of a photo as ImageNet did, the whole given image is resized to 224x224 (aspect not kept): a head or logo
    crop must be seen entire.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._session = runtime.session("image-features-multilevel")
        self._input_name = self._session.get_inputs()[0].name

    def describe(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(n, 1712) float32 features, one row per (H, W, 3) uint8 RGB image, in order; (0, 1712) for none."""
        return self.describe_with_maps(images)[0]

    def describe_with_maps(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The (n, 1712) features and the (n, 112, 14, 14) stride-16 maps they average (what a fine-tuned tail of
        the network, such as PPE's `ppe-head-cover`, continues from)."""
        rows: list[np.ndarray] = []
        maps: list[np.ndarray] = []
        for start in range(0, len(images), FEATURE_BATCH_SIZE):
            batch = np.concatenate([to_tensor(image) for image in images[start : start + FEATURE_BATCH_SIZE]])
            pooled, fine, coarse = self._session.run(None, {self._input_name: batch})
            rows.append(np.concatenate(
                [pooled.reshape(len(batch), -1), fine.mean(axis=(2, 3)), coarse.mean(axis=(2, 3))], axis=1,
            ).astype(np.float32))
            maps.append(fine.astype(np.float32))
        if not rows:
            side = EFFICIENTNET_LITE0_INPUT_PX // FINE_MAP_STRIDE_PX
            return (np.zeros((0, MULTILEVEL_FEATURES_DIMENSIONS), np.float32),
                    np.zeros((0, FINE_MAP_CHANNELS, side, side), np.float32))
        return np.concatenate(rows), np.concatenate(maps)


def to_tensor(rgb: np.ndarray) -> np.ndarray:
    """(1, 3, 224, 224) float32: the whole image resized (area for shrinking, cubic for enlarging), Lite-scaled."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or min(rgb.shape[:2]) < 1:
        raise ValueError(f"expected a non-empty HxWx3 uint8 RGB image, got {rgb.dtype} {rgb.shape}")
    side = EFFICIENTNET_LITE0_INPUT_PX
    shrinking = rgb.shape[0] * rgb.shape[1] > side * side
    square = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    return np.ascontiguousarray(lite_tensor(square)[None])
