"""A planted slow op for the int8 verdict's test: extra int8 FULLY_CONNECTED ops on the model's input, each
with weights of its own (several MB, so each run streams them from memory: slow on any CPU), whose outputs
become extra model outputs (so no runtime may skip them). The original output stays output 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plant_slow_fully_connected(src: Path, dst: Path, *, count: int = 6, units: int = 4096) -> None:
    from tensorflow.lite.tools import flatbuffer_utils as fb

    schema = fb.schema_fb
    model = fb.read_model(str(src))
    graph = model.subgraphs[0]
    fc = next(i for i in range(len(model.operatorCodes)) if fb.opcode_to_name(model, i) == "FULLY_CONNECTED")
    x = graph.inputs[0]
    k = int(np.prod(graph.tensors[x].shape))
    rng = np.random.default_rng(0)
    for n in range(count):
        buffer = schema.BufferT()
        buffer.data = rng.integers(-127, 128, units * k, dtype=np.int8).view(np.uint8)
        model.buffers.append(buffer)
        graph.tensors.append(_int8_tensor(schema, f"planted/w{n}", [units, k], len(model.buffers) - 1, 0.01))
        graph.tensors.append(_int8_tensor(schema, f"planted/y{n}", [1, units], 0, 1.0))
        op = schema.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = fc, [x, len(graph.tensors) - 2, -1], [len(graph.tensors) - 1]
        op.builtinOptionsType = schema.BuiltinOptions.FullyConnectedOptions
        op.builtinOptions = schema.FullyConnectedOptionsT()
        graph.operators.append(op)  # last: the original ops keep their indices
        graph.outputs = [*graph.outputs, len(graph.tensors) - 1]
    fb.write_model(model, str(dst))


def _int8_tensor(schema, name: str, shape: list[int], buffer: int, scale: float):
    t = schema.TensorT()
    t.name, t.shape, t.type, t.buffer = name.encode(), np.array(shape, np.int32), schema.TensorType.INT8, buffer
    t.quantization = schema.QuantizationParametersT()
    t.quantization.scale, t.quantization.zeroPoint = [scale], [0]
    return t
