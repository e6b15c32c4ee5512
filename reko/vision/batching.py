"""Giving a fixed-batch ONNX graph a symbolic batch, so the faces of one image can run as one batch.

MediaPipe's FaceMesh and Iris graphs, converted from TF Lite, declare batch 1 and end in Reshapes to
[1, -1]. Their convolutions do not care about the batch; only those declarations do. The prepared copy
names the batch dimension and makes each such Reshape copy its input's batch (target dim 0 = "as the input",
ONNX's default `allowzero=0`), nothing else changes. The bundled file is never edited; the copy goes to the
model cache (see `catalog`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

BATCH_DIM_NAME = "batch"


def symbolic_batch(source: Path, destination: Path) -> None:
    """Write `source` to `destination` with its inputs' and outputs' first dimension named `BATCH_DIM_NAME`
    and every constant Reshape target that starts with 1 made to keep the input's batch (a catalogue preparer).

    Raises:
        ValueError: a Reshape's target is computed at run time (its batch cannot be checked here).
    """
    model = onnx.load(str(source))
    graph = model.graph
    for value in [*graph.input, *graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIM_NAME
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    for node in graph.node:
        if node.op_type != "Reshape":
            continue
        if node.input[1] not in initializers:
            raise ValueError(f"{source.name}: Reshape {node.name} has a computed target shape")
        tensor = initializers[node.input[1]]
        target = numpy_helper.to_array(tensor).copy()
        if target[0] == 1:  # shared targets are visited more than once: 0 stays 0
            target[0] = 0
            tensor.CopyFrom(numpy_helper.from_array(target.astype(np.int64), tensor.name))
    del graph.value_info[:]  # inferred with batch 1; ONNX Runtime infers them again
    onnx.checker.check_model(model)
    onnx.save(model, str(destination))
