"""The Runner contract, per runtime: NCHW float in, float logits out, the same numbers as PyTorch within
each precision's tolerance (layout and int8 (de)quantization are the runner's business)."""

import numpy as np
import pytest
import torch

from edgeflow.check.parity import RunOutput, compare, run
from edgeflow.data import load_dataset, preprocess
from edgeflow.export.artifact import Precision
from edgeflow.export.onnx import export_onnx
from edgeflow.export.tflite import export_tflite
from edgeflow.runtimes.onnxruntime_runner import OnnxRuntimeRunner
from edgeflow.runtimes.tflite_runner import TFLiteRunner
from edgeflow.runtimes.torch_runner import TorchRunner
from edgeflow.zoo.loading import load_model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    loaded = load_model("sep_res18_s3")
    out = tmp_path_factory.mktemp("runners")
    onnx = export_onnx(loaded.model, loaded.card, out / "model.onnx")
    train = load_dataset("fashion-mnist-embedded", "train").subset(64)
    calib = preprocess(train.images, loaded.card.mean, loaded.card.std)
    tflite = export_tflite(onnx, out, [Precision.FP32, Precision.INT8], calib_nchw=calib)
    test = load_dataset("fashion-mnist-embedded", "test").subset(70)  # not a multiple of the batch of 32
    return loaded, onnx, tflite, preprocess(test.images, loaded.card.mean, loaded.card.std), test.labels


def test_torch_runner_restores_the_model_layout(exported):
    loaded, *_, x, _ = exported
    with TorchRunner(loaded.model) as r:
        y = r.infer_all(x)
    assert y.shape == (70, 10) and y.dtype == np.float32
    assert all(p.is_contiguous() for p in loaded.model.parameters())  # channels_last undone on close
    with torch.inference_mode():
        assert np.allclose(y, loaded.model(torch.from_numpy(x)).numpy(), atol=1e-5)


@pytest.mark.parametrize("kind", ["onnxruntime", "tflite fp32", "tflite int8"])
def test_each_runner_matches_pytorch_within_its_precision(exported, kind):
    loaded, onnx, tflite, x, labels = exported
    runner = {"onnxruntime": lambda: OnnxRuntimeRunner(onnx.path),
              "tflite fp32": lambda: TFLiteRunner(tflite[Precision.FP32].path, "fp32"),
              "tflite int8": lambda: TFLiteRunner(tflite[Precision.INT8].path, "int8")}[kind]()
    out = run(runner, x)
    assert out.logits.shape == (70, 10) and out.logits.dtype == np.float32
    report = compare(run(TorchRunner(loaded.model), x), [out], labels, gates=loaded.card.tolerances)
    assert report, report.failures()
    if kind == "tflite int8":  # int8 input/output: the runner quantizes and dequantizes
        assert report.rows[0].max_abs_diff > 0 and report.rows[0].agreement > 0.95
    else:
        assert report.rows[0].max_abs_diff < 1e-4


def test_compare_labels_rows_by_their_outputs():
    ref = RunOutput("pytorch", "fp32", np.eye(3, dtype=np.float32))
    report = compare(ref, [RunOutput("board", "int8", np.eye(3, dtype=np.float32)[[1, 0, 2]])],
                     np.arange(3), gates={"int8_max_accuracy_drop_pp": 1.0})
    assert report.rows[0].label == "board int8" and report.rows[0].agreement == pytest.approx(1 / 3)
    assert report.failures() == ["board int8: accuracy drop 66.67 pp > 1.0 pp"]
