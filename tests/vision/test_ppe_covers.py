"""PPE's cover estimates on a real photo: HEAD_COVER's fine-tuned tail and HAND_COVER share one feature pass."""

from __future__ import annotations

import numpy as np
import pytest

from reko.vision.faces.wear import face_vector_names
from reko.vision.ppe.covers import CoverEstimator
from tests.conftest import shared_runtime


@pytest.fixture(scope="module")
def covers() -> CoverEstimator:
    dimensions = len(face_vector_names())
    return CoverEstimator(shared_runtime(), lambda rgb, keypoints: np.zeros((len(keypoints), dimensions)), dimensions)


HEADS = np.array([[150, 20, 330, 230], [0, 380, 132, 512], [300, 300, 420, 420]], np.float32)  # face, flag, suit
HANDS = np.array([[40, 300, 110, 370]], np.float32)


def test_heads_and_hands_are_judged_together_and_alone_alike(covers: CoverEstimator, astronaut_rgb: np.ndarray) -> None:
    heads, hands = covers.heads_and_hands_covered(astronaut_rgb, HEADS, HANDS)
    assert heads.shape == (3,) and hands.shape == (1,) and heads.dtype == np.float32
    assert ((heads >= 0) & (heads <= 1)).all() and 0 <= hands[0] <= 1
    alone = [covers.heads_and_hands_covered(astronaut_rgb, HEADS[i : i + 1], HANDS[:0])[0][0] for i in range(3)]
    np.testing.assert_allclose(heads, alone, rtol=1e-4, atol=1e-5)
    assert heads[0] < 0.5  # the astronaut's bare head


def test_no_heads_or_no_hands_give_empty_answers(covers: CoverEstimator, astronaut_rgb: np.ndarray) -> None:
    heads, hands = covers.heads_and_hands_covered(astronaut_rgb, HEADS[:0], HANDS)
    assert heads.shape == (0,) and hands.shape == (1,)
    heads, hands = covers.heads_and_hands_covered(astronaut_rgb, HEADS[:0], HANDS[:0])
    assert heads.shape == (0,) and hands.shape == (0,)
