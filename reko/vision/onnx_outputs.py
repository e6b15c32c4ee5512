"""Cutting an ONNX network down to some of its inner tensors, so a classifier can serve as a feature extractor.

A network trained for one task (age, say) has learnt mid-level maps of the face (edges of frames, hair
texture, the outline of a cover) that small heads for other tasks can read. Its graph only declares the
final answer as an output, so a prepared copy names the wanted inner tensors as its outputs and drops every
node past them: the copy costs only the layers that lead up to the features. The installed package is
never edited; the copy goes to the model cache (see `catalog`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import onnx
from onnx import shape_inference

# The dlib age network's second residual stage (128 maps of 7x7 over a 64 px chip): spatial enough to tell
# the eye band from the mouth band, generic enough to describe glasses, hair and covers. Its last stage
# (256 maps of 3x3) is tuned to age and scored far worse for wear in bench/face_wear.py's comparison.
AGE_NETWORK_FEATURE_TENSOR = "layer_22_relu"
# EfficientNet-Lite0's global average pool (1280 x 1 x 1 per image): the image description its ImageNet classifier
# reads, and what small heads (PPE covers, Custom Labels) are trained on.
IMAGE_CLASSIFIER_POOLED_TENSOR = "/_avg_pooling/GlobalAveragePool_output_0"


def keep_outputs(source: Path, destination: Path, outputs: Sequence[str]) -> None:
    """Write `source` to `destination` with `outputs` as its only graph outputs and nothing computed past them.

    Args:
        source: an ONNX file.
        destination: where the cut copy is written (overwritten if present).
        outputs: names of tensors inside the graph, in the order the copy returns them.

    Raises:
        ValueError: a name is not a tensor the graph computes.
    """
    model = shape_inference.infer_shapes(onnx.load(str(source)))
    graph = model.graph
    known = {value.name: value for value in [*graph.value_info, *graph.output]}
    missing = [name for name in outputs if name not in known]
    if missing:
        raise ValueError(f"{source.name} computes no tensor named {missing}")
    chosen = [onnx.ValueInfoProto() for _ in outputs]
    for value, name in zip(chosen, outputs, strict=True):
        value.CopyFrom(known[name])
    del graph.output[:]
    graph.output.extend(chosen)
    _drop_nodes_past_outputs(graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(destination))


def _drop_nodes_past_outputs(graph: onnx.GraphProto) -> None:
    """Keep the nodes some output depends on, then the initializers and inputs those nodes read."""
    needed = {value.name for value in graph.output}
    alive: list[onnx.NodeProto] = []
    for node in reversed(graph.node):  # ONNX graphs are topologically sorted
        if any(name in needed for name in node.output):
            alive.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(alive))
    initializers = [tensor for tensor in graph.initializer if tensor.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    inputs = [value for value in graph.input if value.name in needed]
    del graph.input[:]
    graph.input.extend(inputs)
    value_info = [value for value in graph.value_info if value.name in needed]
    del graph.value_info[:]
    graph.value_info.extend(value_info)


def keep_age_network_features(source: Path, destination: Path) -> None:
    """The age network cut after the feature maps the wear heads read (a catalogue preparer)."""
    keep_outputs(source, destination, (AGE_NETWORK_FEATURE_TENSOR,))


AGE_NETWORK_OUTPUT = "probabilities"


def keep_age_with_features(source: Path, destination: Path) -> None:
    """The whole age network that also returns the wear heads' feature maps (a catalogue preparer): a request
    asking for both age and wear runs the shared layers once (9 faces: 9.6 ms of CPU saved)."""
    keep_outputs(source, destination, (AGE_NETWORK_OUTPUT, AGE_NETWORK_FEATURE_TENSOR))


# EfficientNet-Lite0's feature maps a detection head reads (Custom Labels object detection): stage 5's output (112
# maps at stride 16, the last stage fine enough for heads of ~20 px) and the last block's projection (320 maps at
# stride 32, what the head convolution widens to the 1280 the pooled features average).
IMAGE_FEATURE_MAP_TENSORS = ("/_blocks.10/Add_output_0", "/_blocks.15/_project_conv/Conv_output_0")


def keep_multilevel_image_features(source: Path, destination: Path) -> None:
    """The image classifier returning its pooled features and the two maps above (a catalogue preparer): one pass
    gives a crop's description at three depths (`image_features.MultiLevelFeatures`)."""
    keep_outputs(source, destination, (IMAGE_CLASSIFIER_POOLED_TENSOR, *IMAGE_FEATURE_MAP_TENSORS))


def keep_image_feature_maps(source: Path, destination: Path) -> None:
    """The image classifier cut at its stride-16 and stride-32 maps, its input height and width made symbolic
    (a catalogue preparer): convolutions take any size, so an image is described at the scale it needs."""
    model = onnx.load(str(source))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim, name in ((dims[2], "height"), (dims[3], "width")):
        dim.Clear()
        dim.dim_param = name
    del model.graph.value_info[:]
    for output in model.graph.output:
        output.type.tensor_type.ClearField("shape")
    onnx.save(model, str(destination))
    keep_outputs(destination, destination, IMAGE_FEATURE_MAP_TENSORS)


# YuNet's inner maps that PPE's head detector reads (64 channels each, names from the 2023mar graph): the neck's
# stride-8 output (what YuNet's own stride-8 heads read), the neck's stride-16 and stride-32 outputs, and the
# backbone's stride-8 stage before the neck. On the hard-hat training half (grouped 5-fold,
# scripts/train_head_detector.py) the backbone map raised head AP at IoU 0.4 from 0.616 to 0.633.
FACE_DETECTOR_HEAD_MAP_TENSORS = ("256", "246", "236", "214")


def keep_face_detector_maps(source: Path, destination: Path) -> None:
    """YuNet cut at the maps the head detector reads (a catalogue preparer); it already takes any input size."""
    keep_outputs(source, destination, FACE_DETECTOR_HEAD_MAP_TENSORS)
