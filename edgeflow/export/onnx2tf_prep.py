"""Rewrites of the ONNX copy handed to onnx2tf (``model.onnx`` stays what the exporter wrote).

* ``constants_to_initializers``: onnx2tf reads InstanceNormalization's scale and bias only from
  initializers, and onnxsim leaves the TorchScript exporter's Constant nodes in place.
* ``pad_maxpools_explicitly``: onnx2tf pads a padded / ceil-mode MaxPool with the dtype's minimum
  (−3.4e38). In float that is exact, but int8 calibration then sees −3.4e38 in that tensor: its scale
  becomes ~1e36, the int8 model is garbage and XNNPACK refuses to prepare it ("failed to create XNNPACK
  runtime"; seen on vgg10, sd_vgg11_lite, googlenet). Instead the MaxPool gets an explicit Pad that is
  exact in float and keeps the calibrated range honest:
  - input provably ≥ 0 (after Relu, Sigmoid, Clip(min ≥ 0), or a Concat/MaxPool of such): pad with 0;
  - otherwise pad with edge values: every pooling window holds at least one real element, and with
    dilation 1 the edge copy of a padded position lies in the same window, so the max is unchanged.
* ``symbolic_batch``: given an input with a fixed batch and 3 channels, onnx2tf fetches sample images from
  GitHub for its own output check (it fails offline, and a converter should not go online). A symbolic batch
  axis avoids that; the conversion pins the batch to 1 either way (``overwrite_input_shape``).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

NON_NEGATIVE_OPS = {"Relu", "Sigmoid"}
PASS_THROUGH_OPS = {"Concat", "MaxPool"}  # non-negative when all their data inputs are


def prepare_for_onnx2tf(model: onnx.ModelProto) -> None:
    """Apply every rewrite below to ``model`` in place."""
    constants_to_initializers(model)
    pad_maxpools_explicitly(model)
    symbolic_batch(model)


def symbolic_batch(model: onnx.ModelProto) -> None:
    """Make the first axis of the graph's inputs and outputs symbolic (``batch``)."""
    for value in (*model.graph.input, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"  # setting the oneof field clears dim_value


def constants_to_initializers(model: onnx.ModelProto, consumers: tuple[str, ...] = ("InstanceNormalization",)) -> int:
    """Turn the tensor-valued Constant nodes that feed ``consumers`` into initializers; return how many."""
    graph = model.graph
    wanted = {i for node in graph.node if node.op_type in consumers for i in node.input[1:]}
    kept, moved = [], 0
    for node in graph.node:
        value = next((a.t for a in node.attribute if a.name == "value"), None)
        if node.op_type != "Constant" or node.output[0] not in wanted or value is None:
            kept.append(node)
            continue
        tensor = onnx.TensorProto()
        tensor.CopyFrom(value)
        tensor.name = node.output[0]
        graph.initializer.append(tensor)
        moved += 1
    del graph.node[:]
    graph.node.extend(kept)
    return moved


def pad_maxpools_explicitly(model: onnx.ModelProto) -> int:
    """Rewrite ``model`` in place; return how many MaxPool nodes got an explicit Pad."""
    graph = model.graph
    shapes = _shapes(model)
    producers = {out: node for node in graph.node for out in node.output}
    inits = {t.name: t for t in graph.initializer}
    nodes, rewritten = [], 0
    for node in graph.node:
        pads = _pads_to_make_explicit(node, shapes)
        if pads is not None:
            padded = f"{node.input[0]}__maxpool_pad{rewritten}"
            pads_name = f"{padded}__pads"
            graph.initializer.append(numpy_helper.from_array(np.array(pads, dtype=np.int64), pads_name))
            mode = "constant" if _non_negative(node.input[0], producers, inits, {}) else "edge"
            nodes.append(helper.make_node("Pad", [node.input[0], pads_name], [padded], mode=mode,
                                          name=f"{node.name or padded}/explicit_pad"))
            node.input[0] = padded
            kept = [a for a in node.attribute if a.name not in ("pads", "ceil_mode")]
            del node.attribute[:]
            node.attribute.extend(kept)
            rewritten += 1
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    return rewritten


def _shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    g = shape_inference.infer_shapes(model).graph
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in (*g.input, *g.value_info, *g.output)}


def _pads_to_make_explicit(node: onnx.NodeProto, shapes: dict[str, list[int]]) -> list[int] | None:
    """ONNX Pad ``pads`` (N, C, H, W begins then ends) for a 2-D MaxPool that pads, else None."""
    if node.op_type != "MaxPool" or len(node.output) != 1:
        return None
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    kernel = list(attrs["kernel_shape"])
    if len(kernel) != 2 or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None
    if any(d != 1 for d in attrs.get("dilations", [1, 1])):
        return None  # windows are not contiguous: the edge argument does not hold
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    strides = list(attrs.get("strides", [1, 1]))
    in_shape, out_shape = shapes.get(node.input[0]), shapes.get(node.output[0])
    if not in_shape or not out_shape or len(in_shape) != 4 or len(out_shape) != 4:
        return None
    for axis in range(2):  # ceil_mode: extend the end padding until the last window fits
        size, out = in_shape[2 + axis], out_shape[2 + axis]
        if size <= 0 or out <= 0:
            return None
        needed = (out - 1) * strides[axis] + kernel[axis]
        pads[2 + axis] += max(0, needed - (size + pads[axis] + pads[2 + axis]))
    if not any(pads):
        return None
    return [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]


def _non_negative(name: str, producers: dict, inits: dict, memo: dict[str, bool]) -> bool:
    if name not in memo:
        node = producers.get(name)
        memo[name] = False  # graph inputs, initializers and cycles (none in a valid graph) prove nothing
        if node is None:
            pass
        elif node.op_type in NON_NEGATIVE_OPS:
            memo[name] = True
        elif node.op_type == "Clip":
            low = inits.get(node.input[1]) if len(node.input) > 1 and node.input[1] else None
            memo[name] = low is not None and float(numpy_helper.to_array(low).min()) >= 0
        elif node.op_type in PASS_THROUGH_OPS:
            data = node.input if node.op_type == "Concat" else node.input[:1]
            memo[name] = all(_non_negative(i, producers, inits, memo) for i in data)
    return memo[name]
