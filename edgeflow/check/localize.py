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

from edgeflow.devices.ondevice_bench import dequantize, quantize
from edgeflow.export.quantize import SampleReader


@dataclass(frozen=True)
class LayerError:
    tensor: str
    op_type: str  # op of the float-model node that produces the tensor
    local_sqnr_db: float
    cumulative_sqnr_db: float | None
    tflite_tensor: str | None = None  # the TFLite op's output tensor (tflite_layer_errors): the converter's name

    def to_dict(self) -> dict:
        return asdict(self)


def _activation_qparams(qdq_onnx: Path) -> dict[str, tuple[float, int, np.dtype]]:
    """Scale, zero point and integer type (int8 or uint8 activations) of every QuantizeLinear in the QDQ
    model, keyed by the tensor it quantizes."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(qdq_onnx)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    params = {}
    for n in graph.node:
        if n.op_type == "QuantizeLinear" and n.input[1] in init and init[n.input[1]].size == 1:
            zp = init[n.input[2]] if len(n.input) > 2 and n.input[2] in init else np.zeros((), np.uint8)
            params[n.input[0]] = (float(init[n.input[1]].item()), int(zp.item()), zp.dtype)
    return params


def _sqnr_db(ref: np.ndarray, approx: np.ndarray) -> float:
    noise = float(np.sum((ref.astype(np.float64) - approx) ** 2))
    return 200.0 if noise == 0 else float(10 * np.log10(max(float(np.sum(ref.astype(np.float64) ** 2)), 1e-30) / noise))


def _fake_quant(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    """``x`` through the integer grid of a tensor: the very quantizer the on-device script applies."""
    return dequantize(quantize(x, scale, zero_point, dtype), scale, zero_point)


def _producers(model_path: Path) -> dict[str, str]:
    import onnx

    graph = onnx.load(str(model_path)).graph
    names = {o: n.op_type for n in graph.node for o in n.output}
    names.update({i.name: "graph input" for i in graph.input})
    return names


def layer_errors(float_onnx: Path, qdq_onnx: Path, x_nchw: np.ndarray) -> list[LayerError]:
    """Every quantized activation's error on the inputs ``x_nchw``, worst (lowest local SQNR) first."""
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        create_activation_matching,
        modify_model_output_intermediate_tensors,
    )

    with tempfile.TemporaryDirectory() as tmp:
        f_aug, q_aug = Path(tmp) / "float_aug.onnx", Path(tmp) / "qdq_aug.onnx"
        modify_model_output_intermediate_tensors(str(float_onnx), str(f_aug))
        modify_model_output_intermediate_tensors(str(qdq_onnx), str(q_aug))
        float_acts = collect_activations(str(f_aug), SampleReader(x_nchw))
        qdq_acts = collect_activations(str(q_aug), SampleReader(x_nchw))
    matched = create_activation_matching(qdq_acts, float_acts)
    qparams = _activation_qparams(qdq_onnx)
    ops = _producers(float_onnx)
    rows = []
    for name, (scale, zp, dtype) in qparams.items():
        if name not in float_acts or ops.get(name) == "Constant":  # constants are not activations
            continue
        ref = np.concatenate(float_acts[name])
        post = matched.get(name, {}).get("post_qdq")
        cumulative = _sqnr_db(ref, np.concatenate(post)) if post is not None and len(post) else None
        rows.append(LayerError(name, ops.get(name, "?"), _sqnr_db(ref, _fake_quant(ref, scale, zp, dtype)),
                               cumulative))
    return sorted(rows, key=lambda r: r.local_sqnr_db)


CONV_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _conv_references(float_onnx: Path) -> list[tuple[str, str]]:
    """(reference tensor, conv output) for each ONNX Conv in graph order; the reference is the ReLU's output
    where a ReLU alone consumes the conv, because the TFLite converter fuses that ReLU into the conv."""
    import onnx

    graph = onnx.load(str(float_onnx)).graph
    consumers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    refs = []
    for n in graph.node:
        if n.op_type == "Conv":
            users = consumers.get(n.output[0], [])
            fused = len(users) == 1 and users[0].op_type == "Relu"
            refs.append((users[0].output[0] if fused else n.output[0], n.output[0]))
    return refs


def _tflite_conv_outputs(int8_tflite: Path, x_nchw: np.ndarray) -> list[tuple[np.ndarray, float, int, str]]:
    """Dequantized NCHW outputs of every conv op of the TFLite model (execution order, all inputs), each
    with its int8 scale and zero point and its tensor name."""
    import warnings

    from ai_edge_litert.interpreter import Interpreter

    from edgeflow.devices.ondevice_bench import dequantize, to_model_input
    from edgeflow.runtimes.quiet import native_stderr_captured

    with native_stderr_captured(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "preserve_all_tensors is for debugging": that is what this is
        interp = Interpreter(model_path=str(int8_tflite), experimental_preserve_all_tensors=True)
        interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    outs = [op["outputs"][0] for op in interp._get_ops_details() if op["op_name"] in CONV_OPS]
    details = {t["index"]: t for t in interp.get_tensor_details()}
    per_op: list[list[np.ndarray]] = [[] for _ in outs]
    for i in range(len(x_nchw)):
        interp.set_tensor(inp["index"], to_model_input(x_nchw[i:i + 1], inp))
        interp.invoke()
        for k, idx in enumerate(outs):
            scale, zp = details[idx]["quantization"]
            per_op[k].append(dequantize(interp.get_tensor(idx), scale, zp).transpose(0, 3, 1, 2))
    return [(np.concatenate(v), *details[idx]["quantization"], details[idx]["name"]) for v, idx in zip(per_op, outs)]


def tflite_layer_errors(float_onnx: Path, int8_tflite: Path, x_nchw: np.ndarray) -> list[LayerError]:
    """Conv-by-conv error of a TFLite int8 model against the float ONNX model, worst first.

    TFLite tensors carry TensorFlow names, and the converter may reorder independent branches (a block's
    projection shortcut before its main path), so each TFLite conv op is matched, in execution order, to
    the not-yet-matched ONNX Conv (after its fused ReLU) of the same shape whose float activation it is
    closest to: a true match is 20-40 dB, a wrong one about 0 dB.
    """
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        modify_model_output_intermediate_tensors,
    )

    from edgeflow.errors import EdgeflowError

    refs = _conv_references(float_onnx)
    with tempfile.TemporaryDirectory() as tmp:
        aug = Path(tmp) / "float_aug.onnx"
        modify_model_output_intermediate_tensors(str(float_onnx), str(aug))
        acts = collect_activations(str(aug), SampleReader(x_nchw))
    conv_outs = _tflite_conv_outputs(int8_tflite, x_nchw)
    if len(conv_outs) != len(refs):
        raise EdgeflowError(f"cannot match layers: {len(refs)} ONNX convs vs {len(conv_outs)} TFLite convs")
    n = len(x_nchw)
    float_of = {ref: np.concatenate(acts[ref]).reshape(n, -1) for ref, _ in refs}  # the tool saves them flat
    pending = list(refs)
    rows = []
    for y, scale, zp, tensor in conv_outs:
        y = y.reshape(n, -1)
        window = [r for r in pending if float_of[r[0]].shape == y.shape]
        if not window:
            raise EdgeflowError(f"cannot match a TFLite conv with {y.shape[1]} values per image to the ONNX graph")
        best = max(window, key=lambda r: _sqnr_db(float_of[r[0]], y))
        pending.remove(best)
        ref = float_of[best[0]]
        rows.append(LayerError(best[0], "Conv (TFLite)", _sqnr_db(ref, _fake_quant(ref, scale, zp)), _sqnr_db(ref, y),
                               tensor))
    return sorted(rows, key=lambda r: r.local_sqnr_db)
