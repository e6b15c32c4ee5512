"""Rewriting PRelu as Relu(x) + slope * Min(x, 0), which ONNX Runtime's CPU kernels run about twice as fast.

MediaPipe's FaceMesh and Iris and OpenCV Zoo's SFace use PRelu with a slope per channel after most convolutions.
ONNX Runtime 1.32 runs that op slowly on the CPU: profiled on the iris model (2 eye crops, one thread), PRelu took
56 % of the run (4.8 ms) against 31 % for every convolution together. The same function written with four cheap
element-wise ops gives bit-identical outputs (x + 0 = x where x > 0; 0 + slope * x where x < 0) and halved the run
of the mesh (4.05 -> 1.74 ms a face) and the iris (3.69 -> 2.01 ms an eye). The bundled or installed file is never
edited; the rewritten copy goes to the model cache (see `catalog`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


def prelu_as_relu_min(source: Path, destination: Path) -> None:
    """Write `source` to `destination` with every PRelu replaced by Relu(x) + slope * Min(x, 0) (a catalogue
    preparer; `source` and `destination` may be the same file)."""
    model = onnx.load(str(source))
    graph = model.graph
    zero = _unique_name(graph, "prelu_zero")
    graph.initializer.append(numpy_helper.from_array(np.zeros((1,), np.float32), zero))
    nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        (x, slope), (y,) = node.input, node.output
        positive, negative, scaled = f"{y}_relu", f"{y}_min0", f"{y}_scaled"
        nodes += [
            helper.make_node("Relu", [x], [positive], name=f"{node.name}_relu"),
            helper.make_node("Min", [x, zero], [negative], name=f"{node.name}_min0"),
            helper.make_node("Mul", [negative, slope], [scaled], name=f"{node.name}_mul"),
            helper.make_node("Add", [positive, scaled], [y], name=f"{node.name}_add"),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(destination))


def _unique_name(graph: onnx.GraphProto, base: str) -> str:
    taken = {tensor.name for tensor in graph.initializer} | {name for node in graph.node for name in node.output}
    name, index = base, 0
    while name in taken:
        index += 1
        name = f"{base}_{index}"
    return name
