"""Per-layer localisation of int8 error: which activation tensors lose the most to quantization.

Uses ONNX Runtime's own QDQ debugging utilities (``onnxruntime.quantization.qdq_loss_debug``): the float
ONNX model and its QDQ int8 twin are run on the same inputs with every intermediate tensor exposed. For
each quantized activation two SQNRs are reported:

* ``local_sqnr_db``: the tensor just before vs just after its own quantize/dequantize pair, i.e. the error
  that this layer's quantization adds by itself (this ranks the layers);
* ``cumulative_sqnr_db``: the float model's tensor vs the int8 model's, i.e. everything upstream included.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LayerError:
    tensor: str
    op_type: str  # op of the float-model node that produces the tensor
    local_sqnr_db: float
    cumulative_sqnr_db: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def _activation_qparams(qdq_onnx: Path) -> dict[str, tuple[float, int]]:
    """Scale and zero point of every QuantizeLinear in the QDQ model, keyed by the tensor it quantizes."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(qdq_onnx)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    params = {}
    for n in graph.node:
        if n.op_type == "QuantizeLinear" and n.input[1] in init and init[n.input[1]].size == 1:
            zp = int(init[n.input[2]].item()) if len(n.input) > 2 and n.input[2] in init else 0
            params[n.input[0]] = (float(init[n.input[1]].item()), zp)
    return params


def _sqnr_db(ref: np.ndarray, approx: np.ndarray) -> float:
    noise = float(np.sum((ref.astype(np.float64) - approx) ** 2))
    return 200.0 if noise == 0 else float(10 * np.log10(max(float(np.sum(ref.astype(np.float64) ** 2)), 1e-30) / noise))


def _fake_quant(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (np.clip(np.round(x / scale) + zero_point, -128, 127) - zero_point) * scale


def _producers(model_path: Path) -> dict[str, str]:
    import onnx

    graph = onnx.load(str(model_path)).graph
    names = {o: n.op_type for n in graph.node for o in n.output}
    names.update({i.name: "graph input" for i in graph.input})
    return names


def layer_errors(float_onnx: Path, qdq_onnx: Path, x_nchw: np.ndarray) -> list[LayerError]:
    """Every quantized activation's error on the inputs ``x_nchw``, worst (lowest local SQNR) first."""
    from onnxruntime.quantization import CalibrationDataReader
    from onnxruntime.quantization.qdq_loss_debug import (collect_activations, create_activation_matching,
                                                         modify_model_output_intermediate_tensors)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(np.ascontiguousarray(x_nchw[i:i + 1], np.float32) for i in range(len(x_nchw)))

        def get_next(self) -> dict | None:
            batch = next(self.it, None)
            return None if batch is None else {"input": batch}

    with tempfile.TemporaryDirectory() as tmp:
        f_aug, q_aug = Path(tmp) / "float_aug.onnx", Path(tmp) / "qdq_aug.onnx"
        modify_model_output_intermediate_tensors(str(float_onnx), str(f_aug))
        modify_model_output_intermediate_tensors(str(qdq_onnx), str(q_aug))
        float_acts = collect_activations(str(f_aug), Reader())
        qdq_acts = collect_activations(str(q_aug), Reader())
    matched = create_activation_matching(qdq_acts, float_acts)
    qparams = _activation_qparams(qdq_onnx)
    ops = _producers(float_onnx)
    rows = []
    for name, (scale, zp) in qparams.items():
        if name not in float_acts or ops.get(name) == "Constant":  # constants are not activations
            continue
        ref = np.concatenate(float_acts[name])
        post = matched.get(name, {}).get("post_qdq")
        cumulative = _sqnr_db(ref, np.concatenate(post)) if post is not None and len(post) else None
        rows.append(LayerError(name, ops.get(name, "?"), _sqnr_db(ref, _fake_quant(ref, scale, zp)), cumulative))
    return sorted(rows, key=lambda r: r.local_sqnr_db)
