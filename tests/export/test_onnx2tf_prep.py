import numpy as np
import onnx
import pytest
import torch
from torch import nn

from edgeflow.export.onnx2tf_prep import pad_maxpools_explicitly


def _onnx(model: nn.Module, path, size: int) -> onnx.ModelProto:
    torch.onnx.export(model.eval(), (torch.zeros(1, 3, size, size),), str(path), opset_version=17, dynamo=False,
                      input_names=["input"], output_names=["out"], dynamic_axes={"input": {0: "n"}, "out": {0: "n"}})
    return onnx.load(str(path))


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize("pool,mode", [
    (nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)), "constant"),  # 7 → 4: pads one row/col at the end
    (nn.MaxPool2d(3, 2, 1), "edge"),  # on raw (negative) input: a zero pad would change the max
    (nn.MaxPool2d(3, 2, 1, ceil_mode=True), "edge"),
])
def test_explicit_pad_is_exact(pool, mode, tmp_path):
    model = _onnx(pool, tmp_path / "m.onnx", 7)
    x = np.random.default_rng(0).normal(-1, 1, (2, 3, 7, 7)).astype(np.float32)
    expected = _run(model, x)
    assert pad_maxpools_explicitly(model) == 1
    pad, maxpool = (n for n in model.graph.node if n.op_type in ("Pad", "MaxPool"))
    assert onnx.helper.get_attribute_value(pad.attribute[0]).decode() == mode
    assert not {a.name for a in maxpool.attribute} & {"pads", "ceil_mode"}
    onnx.checker.check_model(model)
    np.testing.assert_array_equal(_run(model, x), expected)


def test_unpadded_pools_are_left_alone(tmp_path):
    model = _onnx(nn.MaxPool2d(2), tmp_path / "m.onnx", 8)
    assert pad_maxpools_explicitly(model) == 0 and [n.op_type for n in model.graph.node] == ["MaxPool"]


def test_instance_norm_constants_become_initializers(tmp_path):
    from edgeflow.export.onnx2tf_prep import prepare_for_onnx2tf
    from edgeflow.layers.attention import SimAM

    model = _onnx(nn.Sequential(nn.Conv2d(3, 8, 3), SimAM()), tmp_path / "m.onnx", 9)
    x = np.random.default_rng(0).normal(size=(2, 3, 9, 9)).astype(np.float32)
    expected = _run(model, x)
    norm = next(n for n in model.graph.node if n.op_type == "InstanceNormalization")
    assert not set(norm.input[1:]) & {t.name for t in model.graph.initializer}
    prepare_for_onnx2tf(model)
    assert set(norm.input[1:]) <= {t.name for t in model.graph.initializer}
    assert "Constant" in {n.op_type for n in model.graph.node}  # the others stay as they were
    onnx.checker.check_model(model)
    np.testing.assert_array_equal(_run(model, x), expected)
