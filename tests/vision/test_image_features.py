"""The image features tell apart what they should, on a real photo: all of them, and the pooled part alone."""

from __future__ import annotations

import numpy as np
import pytest

from reko.vision.image_features import IMAGE_FEATURES_DIMENSIONS, MULTILEVEL_FEATURES_DIMENSIONS, MultiLevelFeatures
from tests.conftest import shared_runtime


@pytest.fixture(scope="module")
def features() -> MultiLevelFeatures:
    return MultiLevelFeatures(shared_runtime())


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_shapes_and_batches_agree(features: MultiLevelFeatures, astronaut_rgb: np.ndarray) -> None:
    crops = [astronaut_rgb[y : y + 120, x : x + 90] for y in (0, 200) for x in (0, 150, 300)] * 2
    together = features.describe(crops)
    alone = np.concatenate([features.describe([crop]) for crop in crops])
    assert together.shape == (12, MULTILEVEL_FEATURES_DIMENSIONS) and together.dtype == np.float32
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-4)
    assert features.describe([]).shape == (0, MULTILEVEL_FEATURES_DIMENSIONS)


def test_a_crop_is_closer_to_itself_shifted_than_to_other_content(
    features: MultiLevelFeatures, astronaut_rgb: np.ndarray
) -> None:
    described = features.describe(
        [astronaut_rgb[20:220, 140:320], astronaut_rgb[28:228, 148:328], astronaut_rgb[380:512, 0:132]]
    )
    for columns in (slice(None), slice(0, IMAGE_FEATURES_DIMENSIONS)):
        face, face_shifted, flag_corner = described[:, columns]
        assert _cosine(face, face_shifted) > _cosine(face, flag_corner) + 0.2


def test_refuses_what_is_not_an_rgb_image(features: MultiLevelFeatures) -> None:
    with pytest.raises(ValueError):
        features.describe([np.zeros((10, 10), np.uint8)])
    with pytest.raises(ValueError):
        features.describe([np.zeros((0, 10, 3), np.uint8)])

