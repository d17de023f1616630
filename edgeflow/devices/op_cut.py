"""Cut a .tflite into single-op models, so each op can be timed alone on a device.

Each op of the main subgraph becomes a model of its own: its non-constant inputs are the model's inputs,
its constant inputs (weights, biases, shapes) keep their buffers, its outputs are the model's outputs, and
every tensor keeps its shape, type and quantization parameters. The models go into one tar (``ops.tar``),
so a device gets one push and the on-device script times them all in one process.
Reading and writing the flatbuffer go through ``tensorflow.lite.tools.flatbuffer_utils``.
"""

from __future__ import annotations

import copy
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from edgeflow.errors import EdgeflowError


@dataclass(frozen=True)
class CutOp:
    """One op of the original model, and the file its single-op model has in the tar."""

    index: int  # position in the original model's main subgraph
    type: str  # builtin op name, e.g. DEPTHWISE_CONV_2D (a custom op: its custom code)
    file: str


def _op_name(model, fb_utils, opcode_index: int) -> str:
    code = model.operatorCodes[opcode_index]
    if code.customCode:
        return code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode)
    return fb_utils.opcode_to_name(model, opcode_index) or f"OP{opcode_index}"


def _single_op_model(model, op, fb_utils):
    """A model object holding only ``op``: its tensors (renumbered), their buffers, all op codes."""
    schema = fb_utils.schema_fb
    graph = model.subgraphs[0]
    used = [t for t in list(op.inputs) + list(op.outputs) if t >= 0]
    order = list(dict.fromkeys(used))  # tensor indices, first appearance first, no repeats
    new_index = {t: i for i, t in enumerate(order)}
    buffers = [schema.BufferT()]  # buffer 0 is the empty buffer by convention
    tensors = []
    for t in order:
        tensor = copy.copy(graph.tensors[t])  # shallow: shape/quantization objects are shared, never changed
        data = model.buffers[tensor.buffer].data if tensor.buffer < len(model.buffers) else None
        if data is not None and len(data):
            buffers.append(model.buffers[tensor.buffer])
            tensor.buffer = len(buffers) - 1
        else:
            tensor.buffer = 0
        tensors.append(tensor)
    const = {t for t in order if tensors[new_index[t]].buffer != 0}
    one = copy.copy(op)
    one.inputs = [new_index[t] if t >= 0 else -1 for t in op.inputs]
    one.outputs = [new_index[t] for t in op.outputs]
    one.intermediates = None
    sub = schema.SubGraphT()
    sub.tensors, sub.operators = tensors, [one]
    sub.inputs = [new_index[t] for t in dict.fromkeys(op.inputs) if t >= 0 and t not in const]
    sub.outputs = [new_index[t] for t in op.outputs]
    sub.name = graph.name
    out = schema.ModelT()
    out.version, out.description = model.version, b"edgeflow single-op cut"
    out.operatorCodes, out.buffers, out.subgraphs = model.operatorCodes, buffers, [sub]
    return out


def cut_ops(model_path: Path, out_tar: Path) -> list[CutOp]:
    """Write every op of ``model_path``'s main subgraph as a single-op model into the tar ``out_tar``."""
    from tensorflow.lite.tools import flatbuffer_utils as fb_utils  # heavy: only when profiling

    try:
        model = fb_utils.read_model(str(model_path))
    except Exception as e:  # a truncated or foreign file: the flatbuffer reader raises many kinds
        raise EdgeflowError(f"{model_path} is not a readable .tflite model ({type(e).__name__})") from e
    if len(model.subgraphs) != 1:
        raise EdgeflowError(f"{model_path.name} has {len(model.subgraphs)} subgraphs; the per-op profile cuts "
                            "single-subgraph models only")
    ops = []
    with tarfile.open(out_tar, "w") as tar:
        for i, op in enumerate(model.subgraphs[0].operators):
            name = _op_name(model, fb_utils, op.opcodeIndex)
            ops.append(CutOp(i, name, f"op_{i:04d}.tflite"))
            data = fb_utils.convert_object_to_bytearray(_single_op_model(model, op, fb_utils))
            info = tarfile.TarInfo(ops[-1].file)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return ops

