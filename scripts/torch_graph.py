"""An ONNX convolutional graph run as a PyTorch module whose conv weights train, then written back into the graph.

Training only (`scripts/train_head_detector.py`): the trained weights go back into the same ONNX graph, so serving
runs it in ONNX Runtime like any other model and decodes it with the code of the graph it came from. Covers the
operators of YuNet's prepared graph (Conv, Relu, MaxPool, nearest 2x Resize, Add, Transpose, Reshape, Sigmoid);
any other operator is refused. Needs the `train-torch` extra (PyTorch, CPU build).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as functional
from onnx import numpy_helper


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    return {attribute.name: onnx.helper.get_attribute_value(attribute) for attribute in node.attribute}


def _key(name: str) -> str:
    return name.replace(".", "_")  # ParameterDict keys cannot hold dots


class TrainableGraph(torch.nn.Module):
    """The graph at `path`; `logits` leaves the graph's final Sigmoids out (for losses on logits)."""

    def __init__(self, path: Path, logits: bool = True) -> None:
        super().__init__()
        self.model = onnx.load(str(path))
        graph = self.model.graph
        constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        producers = {}
        self.nodes: list[onnx.NodeProto] = []
        for node in graph.node:  # fold the Reshapes of stored weights (the prepared graph's dequantized weights)
            if node.op_type == "Reshape" and all(name in constants for name in node.input):
                constants[node.output[0]] = constants[node.input[0]].reshape(constants[node.input[1]])
                producers[node.output[0]] = node.input[0]
            else:
                self.nodes.append(node)
        self.weights = torch.nn.ParameterDict()
        self.stored_name: dict[str, str] = {}  # parameter key → the initializer it is written back to
        self.constants: dict[str, np.ndarray] = {}
        for node in self.nodes:
            for index, name in enumerate(node.input):
                if node.op_type == "Conv" and index > 0:
                    self.weights[_key(name)] = torch.nn.Parameter(torch.from_numpy(np.array(constants[name],
                                                                                             np.float32)))
                    self.stored_name[_key(name)] = producers.get(name, name)
                elif name in constants:
                    self.constants[name] = constants[name]
        self.outputs = [output.name for output in graph.output]
        self.logits = logits

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values: dict[str, torch.Tensor] = {"input": x}
        for node in self.nodes:
            attributes, inputs, output = _attributes(node), node.input, node.output[0]
            operator = node.op_type
            if operator == "Conv":
                pads = attributes.get("pads", [0, 0, 0, 0])
                if pads[:2] != pads[2:]:
                    raise NotImplementedError("asymmetric padding")
                bias = self.weights[_key(inputs[2])] if len(inputs) > 2 else None
                values[output] = functional.conv2d(
                    values[inputs[0]], self.weights[_key(inputs[1])], bias, attributes.get("strides", [1, 1]),
                    tuple(pads[:2]), attributes.get("dilations", [1, 1]), attributes.get("group", 1))
            elif operator == "Relu":
                values[output] = functional.relu(values[inputs[0]])
            elif operator == "MaxPool":
                if attributes.get("pads", [0, 0, 0, 0]) != [0, 0, 0, 0] or attributes.get("ceil_mode", 0):
                    raise NotImplementedError("padded or ceil-mode MaxPool")
                values[output] = functional.max_pool2d(values[inputs[0]], attributes["kernel_shape"],
                                                       attributes["strides"])
            elif operator == "Resize":
                if list(self.constants[inputs[2]]) != [1, 1, 2, 2] or attributes.get("mode") != b"nearest":
                    raise NotImplementedError("only the nearest 2x Resize")
                values[output] = functional.interpolate(values[inputs[0]], scale_factor=2, mode="nearest")
            elif operator == "Add":
                values[output] = values[inputs[0]] + values[inputs[1]]
            elif operator == "Transpose":
                values[output] = values[inputs[0]].permute(*attributes["perm"])
            elif operator == "Reshape":
                shape = [int(v) for v in self.constants[inputs[1]]]
                shape[0] = x.shape[0] if shape[0] == 1 else shape[0]  # the stored graph fixes a batch of 1
                values[output] = values[inputs[0]].reshape(shape)
            elif operator == "Sigmoid":
                final = self.logits and output in self.outputs
                values[output] = values[inputs[0]] if final else torch.sigmoid(values[inputs[0]])
            else:
                raise NotImplementedError(operator)
        return {name: values[name] for name in self.outputs}

    def export(self, path: Path) -> None:
        """The stored graph with the trained weights in its initializers (same nodes, same outputs)."""
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        by_name = {tensor.name: tensor for tensor in model.graph.initializer}
        for key, weight in self.weights.items():
            stored = by_name[self.stored_name[key]]
            values = weight.detach().numpy().astype(np.float32).reshape(tuple(stored.dims))
            stored.CopyFrom(numpy_helper.from_array(values, stored.name))
        onnx.save(model, str(path))
