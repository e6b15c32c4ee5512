"""Folding block-quantised weights: the spec's arithmetic, and both shipped models after folding."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from reko.vision import catalog
from reko.vision.quantization import dequantize, fold_block_quantized
from tests.conftest import test_image


@pytest.mark.parametrize(
    ("scale", "zero_point", "axis", "block_size", "expected"),
    [
        # per tensor
        (np.float32(0.5), np.int8(1), 1, 0, [[-0.5, 0.0, 0.5, 1.0], [1.5, 2.0, 2.5, 3.0]]),
        # per axis along the rows
        (np.array([1.0, 2.0], np.float32), None, 0, 0, [[0, 1, 2, 3], [8, 10, 12, 14]]),
        # blocks of 3 along axis 1; the last block is short
        (np.array([[1.0, 10.0], [2.0, 20.0]], np.float32), None, 1, 3, [[0, 1, 2, 30], [8, 10, 12, 140]]),
        # one block of 2 rows per column, with zero points
        (
            np.ones((1, 4), np.float32),
            np.array([[1, 2, 1, 2]], np.int8),
            0,
            2,
            [[-1, -1, 1, 1], [3, 3, 5, 5]],
        ),
    ],
)
def test_dequantize_follows_the_onnx_spec(
    scale: np.ndarray, zero_point: np.ndarray | None, axis: int, block_size: int, expected: list[list[float]]
) -> None:
    quantized = np.arange(8, dtype=np.int8).reshape(2, 4)
    result = dequantize(quantized, scale, zero_point, axis=axis, block_size=block_size)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, np.array(expected, np.float32))


def test_folding_a_small_graph_matches_the_reference_evaluator(tmp_path: Path) -> None:
    weight = np.array([[3, -4, 5, 6, 7]], np.int8)
    scales = np.array([[0.5, 0.25]], np.float32)
    zero_points = np.array([[1, -1]], np.int8)
    graph = helper.make_graph(
        [
            helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w"], axis=1, block_size=3),
            helper.make_node("Mul", ["x", "w"], ["y"]),
        ],
        "tiny",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5]),
            helper.make_tensor_value_info("w_q", TensorProto.INT8, [1, 5]),  # an initializer posing as input
            helper.make_tensor_value_info("stale", TensorProto.FLOAT, [1, 5]),  # read by nothing
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        [
            numpy_helper.from_array(weight, "w_q"),
            numpy_helper.from_array(scales, "w_s"),
            numpy_helper.from_array(zero_points, "w_z"),
        ],
    )
    source, destination = tmp_path / "q.onnx", tmp_path / "f.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), str(source))
    fold_block_quantized(source, destination)

    folded = onnx.load(str(destination))
    assert [node.op_type for node in folded.graph.node] == ["Mul"]
    assert [value.name for value in folded.graph.input] == ["x"]
    x = np.arange(1, 6, dtype=np.float32).reshape(1, 5)
    reference = ReferenceEvaluator(str(source)).run(None, {"x": x, "w_q": weight, "stale": x})
    expected = np.asarray(cast(list[np.ndarray], reference)[0])
    actual = np.asarray(ort.InferenceSession(str(destination)).run(None, {"x": x})[0])
    np.testing.assert_allclose(actual, expected)
    np.testing.assert_allclose(actual, x * np.array([[1.0, -2.5, 2.0, 1.75, 2.0]], np.float32))


@pytest.fixture(scope="module")
def folded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("folded")


def _fold(name: str, folded_dir: Path) -> tuple[Path, Path]:
    source = catalog.verify(catalog.spec(name))
    destination = folded_dir / f"{name}.onnx"
    if not destination.is_file():
        fold_block_quantized(source, destination)
    return source, destination


def test_face_embedder_folds_into_a_128_d_vector(folded_dir: Path) -> None:
    _, folded = _fold("face-embedder", folded_dir)
    session = ort.InferenceSession(str(folded))
    assert [value.name for value in session.get_inputs()] == ["data"]
    crop = np.random.default_rng(0).uniform(0, 255, (1, 3, 112, 112)).astype(np.float32)
    (vector,) = session.run(None, {"data": crop})
    assert vector.shape == (1, 128)
    norm = float(np.linalg.norm(vector))
    assert np.isfinite(norm) and norm > 1e-3
    np.testing.assert_allclose(np.linalg.norm(vector / norm), 1.0, rtol=1e-6)


def test_face_detector_fold_keeps_the_quantised_graphs_outputs(folded_dir: Path) -> None:
    source, folded = _fold("face-detector", folded_dir)
    image = np.random.default_rng(1).uniform(0, 255, (1, 3, 96, 128)).astype(np.float32)
    expected = ReferenceEvaluator(str(source)).run(None, {"input": image})
    actual = ort.InferenceSession(str(folded)).run(None, {"input": image})
    for want, got in zip(expected, actual, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-4)


def test_folded_face_detector_finds_the_astronauts_face(folded_dir: Path) -> None:
    _, folded = _fold("face-detector", folded_dir)
    rgb = test_image("astronaut.png")  # 512x512, one face around x 170-250, y 60-160
    bgr = np.ascontiguousarray(rgb[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32)
    session = ort.InferenceSession(str(folded))
    names = [value.name for value in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {"input": bgr}), strict=True))
    best_score, best_centre = 0.0, (0.0, 0.0)
    for stride in (8, 16, 32):
        scores = np.sqrt(np.clip(outputs[f"cls_{stride}"][0, :, 0] * outputs[f"obj_{stride}"][0, :, 0], 0, 1))
        index = int(np.argmax(scores))
        if scores[index] > best_score:
            columns = 512 // stride
            best_score = float(scores[index])
            best_centre = ((index % columns + 0.5) * stride, (index // columns + 0.5) * stride)
    assert best_score > 0.8
    assert 150 < best_centre[0] < 270 and 50 < best_centre[1] < 170
