"""Per-layer localisation: a planted quantization fault must be named first."""

import onnx
import pytest
from onnx import numpy_helper

from edgeflow.check.localize import layer_errors
from edgeflow.data import load_dataset, preprocess
from edgeflow.export.onnx import export_onnx
from edgeflow.export.quantize import quantize_onnx_static
from edgeflow.zoo.cards import get_card
from edgeflow.zoo.registry import create_model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    import torch

    tmp = tmp_path_factory.mktemp("loc")
    card = get_card("sep_res18_s3")
    torch.manual_seed(0)
    onnx_art = export_onnx(create_model("sep_res18_s3"), card, tmp / "model.onnx")
    train = load_dataset("fashion-mnist-embedded", "train").subset(64)
    qdq = quantize_onnx_static(onnx_art, tmp / "qdq.onnx", preprocess(train.images, card.mean, card.std))
    test = load_dataset("fashion-mnist-embedded", "test").subset(16)
    return onnx_art.path, qdq.path, preprocess(test.images, card.mean, card.std)


def _plant_tiny_range(qdq_path, out_path, tensor):
    """Shrink the calibration range of one activation 100×, as a bad calibration would: it saturates."""
    model = onnx.load(str(qdq_path))
    (q,) = [n for n in model.graph.node if n.op_type == "QuantizeLinear" and n.input[0] == tensor]
    for init in model.graph.initializer:
        if init.name == q.input[1]:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) / 100, init.name))
    onnx.save(model, str(out_path))


def test_healthy_model_has_no_catastrophic_layer(models):
    float_path, qdq_path, x = models
    rows = layer_errors(float_path, qdq_path, x)
    assert len(rows) > 30 and all(r.op_type != "Constant" for r in rows)
    assert rows[0].local_sqnr_db > 20  # int8 of one healthy tensor keeps > 20 dB


def test_planted_fault_is_named_first(models, tmp_path):
    float_path, qdq_path, x = models
    healthy = layer_errors(float_path, qdq_path, x)
    victim = next(r.tensor for r in healthy[len(healthy) // 2:] if r.op_type == "Relu")  # a mid-network layer
    _plant_tiny_range(qdq_path, tmp_path / "faulty.onnx", victim)
    rows = layer_errors(float_path, tmp_path / "faulty.onnx", x)
    assert rows[0].tensor == victim
    assert rows[0].local_sqnr_db < 10 < rows[1].local_sqnr_db
    # and the fault is real: the int8 model's own activation there is far from the float one
    before = next(r for r in healthy if r.tensor == victim)
    assert rows[0].cumulative_sqnr_db < before.cumulative_sqnr_db - 10
