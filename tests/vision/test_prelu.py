"""PRelu rewritten as Max(x, slope * x) or Relu(x) + slope * Min(x, 0): the same numbers from the models that use it,
and no PRelu left."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from reko.vision import catalog
from reko.vision.batching import symbolic_batch
from reko.vision.prelu import prelu_as_max
from reko.vision.quantization import fold_block_quantized
from tests.conftest import shared_runtime


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(("model", "before", "shape"), [
    ("face-mesh-batched", symbolic_batch, (2, 192, 192, 3)),
    ("face-mesh-iris-batched", symbolic_batch, (2, 64, 64, 3)),
    ("face-embedder", fold_block_quantized, (2, 3, 112, 112)),
])
def test_rewritten_models_answer_exactly_what_the_prelu_graphs_answer(
    tmp_path: Path, model: str, before: object, shape: tuple[int, ...]
) -> None:
    spec = catalog.spec(model)
    assert spec.prepare is not None and spec.prepare.endswith("+prelu_as_max")
    with_prelu = tmp_path / "with-prelu.onnx"
    before(catalog.verify(spec), with_prelu)  # type: ignore[operator]
    assert any(node.op_type == "PRelu" for node in onnx.load(str(with_prelu)).graph.node)
    rewritten = shared_runtime().model_path(model)
    assert not any(node.op_type == "PRelu" for node in onnx.load(str(rewritten)).graph.node)
    reference, fast = _session(with_prelu), _session(rewritten)
    feed = {reference.get_inputs()[0].name: np.random.default_rng(7).normal(size=shape).astype(np.float32)}
    for expected, got in zip(reference.run(None, feed), fast.run(None, feed), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_the_rewrite_can_write_over_its_source(tmp_path: Path) -> None:
    copy = tmp_path / "iris.onnx"
    copy.write_bytes(catalog.verify(catalog.spec("face-mesh-iris")).read_bytes())
    prelu_as_max(copy, copy)
    nodes = onnx.load(str(copy)).graph.node
    assert not any(node.op_type == "PRelu" for node in nodes)
    # both forms are there: Max where every slope is at most 1, Relu + Min elsewhere
    assert any(node.op_type == "Max" for node in nodes) and any(node.op_type == "Min" for node in nodes)
