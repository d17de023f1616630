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

    from edgeflow.runtimes.quiet import native_stderr_captured

    with native_stderr_captured():
        interp = Interpreter(model_path=str(path))
    tensors = interp.get_tensor_details()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    io = {inp["index"], out["index"]}
    dtypes = Counter(np.dtype(t["dtype"]).name for t in tensors)
    ops = Counter(op["op_name"] for op in interp._get_ops_details())  # LiteRT exposes no public op list
    inner = [np.dtype(t["dtype"]).name for t in tensors if t["index"] not in io]
    return {
        "format": "tflite",
        "bytes": path.stat().st_size,
        "ops": dict(ops.most_common()),
        "tensor_dtypes": dict(sorted(dtypes.items())),
        "fully_integer": bool(inner) and all(d in INTEGER_DTYPES for d in inner),
        "integer_io": np.dtype(inp["dtype"]).name in INTEGER_DTYPES and np.dtype(out["dtype"]).name in INTEGER_DTYPES,
        "input": _quant(inp),
        "output": _quant(out),
    }


def inspect_onnx(path: Path) -> dict:
    """Op histogram, initializer dtypes, I/O, and whether weights are quantized (QDQ int8)."""
    import onnx

    model = onnx.load(str(path))
    g = model.graph
    ops = Counter(n.op_type for n in g.node)
    init_types = Counter(onnx.helper.tensor_dtype_to_np_dtype(t.data_type).name for t in g.initializer)

    def io(v: "onnx.ValueInfoProto") -> dict:
        t = v.type.tensor_type
        return {"name": v.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name,
                "shape": [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]}

    return {
        "format": "onnx",
        "bytes": path.stat().st_size,
        "opset": max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0),
        "ops": dict(ops.most_common()),
        "initializer_dtypes": dict(sorted(init_types.items())),
        "qdq_int8": ops.get("QuantizeLinear", 0) > 0 and "int8" in init_types,
        "input": io(g.input[0]),
        "output": io(g.output[0]),
    }


def inspect_file(path: Path) -> dict:
    """Dispatch on the suffix; raises EdgeflowError for anything else."""
    from edgeflow.errors import EdgeflowError

    if not path.is_file():
        raise EdgeflowError(f"no such file: {path}")
    try:
        if path.suffix == ".tflite":
            return inspect_tflite(path)
        if path.suffix == ".onnx":
            return inspect_onnx(path)
    except EdgeflowError:
        raise
    except Exception as e:  # the parsers raise many types for a damaged file
        raise EdgeflowError(f"{path} could not be read as {path.suffix[1:]}: {type(e).__name__}: {e}") from e
    raise EdgeflowError(f"{path}: expected a .tflite or .onnx file")
