"""ONNX Runtime int8: int8 or uint8 activations, chosen by timing both, and the choice recorded."""

import onnx
import pytest
from onnx import numpy_helper

from edgeflow.check.localize import layer_errors
from edgeflow.data import load_dataset, preprocess
from edgeflow.export.onnx import export_onnx
from edgeflow.export.quantize import quantize_onnx_fastest, quantize_onnx_static
from edgeflow.runtimes.onnxruntime_runner import OnnxRuntimeRunner
from edgeflow.zoo.cards import get_card
from edgeflow.zoo.registry import create_model


@pytest.fixture(scope="module")
def float_onnx(tmp_path_factory):
    import torch

    tmp = tmp_path_factory.mktemp("q")
    card = get_card("vgg10")
    torch.manual_seed(0)
    art = export_onnx(create_model("vgg10"), card, tmp / "model.onnx")
    calib = preprocess(load_dataset("fashion-mnist-embedded", "train").subset(32).images, card.mean, card.std)
    test = preprocess(load_dataset("fashion-mnist-embedded", "test").subset(8).images, card.mean, card.std)
    return art, calib, test


def _activation_zero_point_types(path) -> set:
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    return {init[n.input[2]].dtype.name for n in graph.node
            if n.op_type == "QuantizeLinear" and n.input[2] in init and init[n.input[1]].size == 1}


def test_the_faster_activation_type_is_kept_and_recorded(float_onnx, tmp_path):
    art, calib, _ = float_onnx
    q, choice = quantize_onnx_fastest(art, tmp_path / "model_int8_qdq.onnx", calib, iters=12)
    assert set(choice.p50_ms) == {"int8", "uint8"} and all(v > 0 for v in choice.p50_ms.values())
    assert choice.activation_type == min(choice.p50_ms, key=choice.p50_ms.get)
    assert _activation_zero_point_types(q.path) == {choice.activation_type}  # the file is what was chosen
    assert [p.name for p in tmp_path.iterdir()] == ["model_int8_qdq.onnx"]  # the loser is not left behind
    record = choice.to_dict()
    assert record["activation_type"] == choice.activation_type and record["threads"] == 1


def test_both_activation_types_give_the_same_answers(float_onnx, tmp_path):
    art, calib, x = float_onnx
    logits = {}
    for a in ("int8", "uint8"):
        path = quantize_onnx_static(art, tmp_path / f"{a}.onnx", calib, activations=a).path
        assert _activation_zero_point_types(path) == {a}
        runner = OnnxRuntimeRunner(path)
        runner.load()
        logits[a] = runner.infer(x)
    assert (logits["int8"].argmax(1) == logits["uint8"].argmax(1)).mean() >= 0.75
    # localisation reads each tensor's own integer type: a uint8 grid must not be clipped as int8
    rows = layer_errors(art.path, tmp_path / "uint8.onnx", x)
    assert rows and min(r.local_sqnr_db for r in rows) > 15
