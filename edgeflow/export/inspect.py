"""What a .tflite file really holds, read from the file itself (never assumed from how it was made)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

INTEGER_DTYPES = {"int8", "int16", "int32", "uint8"}


def _quant(detail: dict) -> dict:
    scale, zero_point = detail["quantization"]
    return {"dtype": np.dtype(detail["dtype"]).name, "shape": [int(v) for v in detail["shape"]],
            "scale": float(scale), "zero_point": int(zero_point)}


def inspect_tflite(path: Path) -> dict:
    """Tensor dtype histogram, I/O dtypes and quantization, and whether the graph is fully integer.

    ``fully_integer`` is true when every tensor except the graph's own input/output is an integer type
    (int8 activations and weights, int32 biases); ``integer_io`` when input and output are integer too.
    """
    from ai_edge_litert.interpreter import Interpreter

    from edgeflow.quiet import native_stderr_captured

    with native_stderr_captured():
        interp = Interpreter(model_path=str(path))
    tensors = interp.get_tensor_details()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    io = {inp["index"], out["index"]}
    dtypes = Counter(np.dtype(t["dtype"]).name for t in tensors)
    inner = [np.dtype(t["dtype"]).name for t in tensors if t["index"] not in io]
    return {
        "tensor_dtypes": dict(sorted(dtypes.items())),
        "fully_integer": bool(inner) and all(d in INTEGER_DTYPES for d in inner),
        "integer_io": np.dtype(inp["dtype"]).name in INTEGER_DTYPES and np.dtype(out["dtype"]).name in INTEGER_DTYPES,
        "input": _quant(inp),
        "output": _quant(out),
    }
