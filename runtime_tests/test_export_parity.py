"""End to end: the committed sep_res18_s3 checkpoint → ONNX → TFLite fp32 + full int8, parity on the
10,000 real Fashion-MNIST test images, gates from the card."""

import json

import numpy as np
import pytest

from edgeflow.check.parity import max_diff_bound
from edgeflow.data import load_dataset, preprocess
from edgeflow.export.artifact import Precision
from edgeflow.export.inspect import inspect_tflite
from edgeflow.files import file_sha256
from edgeflow.runtimes.tflite_runner import TFLiteRunner
from edgeflow.workflows.export import ExportOptions, run_export
from edgeflow.zoo.cards import get_card
from edgeflow.zoo.checkpoint import default_checkpoint

NAME = "sep_res18_s3"
pytestmark = pytest.mark.xdist_group("export_parity")  # one pytest-xdist worker builds the fixture once


# Session scope: an xdist worker may interleave other modules' tests with these, which would tear down
# (and rebuild, ~75 s) a module-scoped fixture.
@pytest.fixture(scope="session")
def exported_10k(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / NAME
    return run_export(NAME, ExportOptions(precisions=(Precision.FP32, Precision.INT8), out_dir=out, bench_iters=50))


def test_gates_hold_on_all_test_images(exported_10k):
    report = exported_10k.parity
    assert report.samples == 10000
    assert bool(report), report.failures()
    rows = {r.label: r for r in report.rows}
    assert set(rows) == {"onnxruntime fp32", "tflite fp32", "tflite int8"}
    tol = get_card(NAME).tolerances
    for label in ("onnxruntime fp32", "tflite fp32"):
        bound = max_diff_bound(tol, "fp32", report.reference.max_abs_logit)
        assert bound is not None and rows[label].max_abs_diff <= bound and rows[label].agreement == 1.0
    assert 100 * (report.reference.accuracy - rows["tflite int8"].accuracy) <= tol["int8_max_accuracy_drop_pp"]
    assert report.reference.accuracy >= 0.91  # the committed checkpoint's target


def test_output_folder_matches_the_contract(exported_10k):
    out = exported_10k.out_dir
    assert sorted(p.name for p in out.iterdir()) == [
        ".edgeflow", "manifest.json", "model.onnx", "model_fp32.tflite", "model_int8.tflite", "parity.json", "parity.md"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["source"]["sha256"] == file_sha256(default_checkpoint(NAME))
    assert m["calibration"]["count"] == 500 and m["calibration"]["split"] == "train"
    for a in m["artifacts"]:
        assert file_sha256(out / a["file"]) == a["sha256"] and (out / a["file"]).stat().st_size == a["bytes"]
    c = m["input_contract"]
    assert c["tflite_input"]["shape"] == [1, 28, 28, 1] and c["mean"] == [0.286]
    # the int8 claim is read back from the .tflite file itself
    info = inspect_tflite(out / "model_int8.tflite")
    assert info["fully_integer"] and info["input"]["dtype"] == "int8" and info["output"]["dtype"] == "int8"
    assert c["int8"]["input"]["scale"] == pytest.approx(info["input"]["scale"])
    assert not inspect_tflite(out / "model_fp32.tflite")["fully_integer"]
    parity = json.loads((out / "parity.json").read_text())
    assert parity["passed"] and {r["runtime"] for r in parity["latency"]} == {"pytorch", "onnxruntime", "tflite"}
    assert all(r["p50_ms"] > 0 and r["peak_rss_mb"] > 0 and r["iters"] == 50 for r in parity["latency"])


def test_contract_alone_is_enough_to_run_the_int8_model(exported_10k):
    """A device that knows only the manifest's contract reproduces the host's int8 logits."""
    out = exported_10k.out_dir
    c = json.loads((out / "manifest.json").read_text())["input_contract"]
    images = load_dataset("fashion-mnist-embedded", "test").images[:20]
    x = (images.astype(np.float32) / 255 - c["mean"][0]) / c["std"][0]
    q = np.clip(np.round(x.transpose(0, 2, 3, 1) / c["int8"]["input"]["scale"]) + c["int8"]["input"]["zero_point"],
                -128, 127).astype(np.int8)
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(out / "model_int8.tflite"))
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0], interp.get_output_details()[0]
    logits = []
    for k in range(len(q)):
        interp.set_tensor(i["index"], q[k:k + 1])
        interp.invoke()
        logits.append((interp.get_tensor(o["index"]).astype(np.float32) - c["int8"]["output"]["zero_point"])
                      * c["int8"]["output"]["scale"])
    card = get_card(NAME)
    with TFLiteRunner(out / "model_int8.tflite", "int8") as runner:
        host = runner.infer(preprocess(images, card.mean, card.std))
    np.testing.assert_array_equal(np.concatenate(logits), host)


def test_every_int8_op_runs_in_one_xnnpack_partition(exported_10k):
    """The Kronecker classifier is lowered to FULLY_CONNECTED ops: a BATCH_MATMUL with a constant left
    operand is not taken by XNNPACK in int8 and split the model into two delegated partitions."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(exported_10k.out_dir / "model_int8.tflite"))
    interp.allocate_tensors()
    ops = interp._get_ops_details()  # the graph's ops, then the delegate nodes that replaced them
    (delegate,) = [op for op in ops if op["op_name"] == "DELEGATE"]
    assert "BATCH_MATMUL" not in {op["op_name"] for op in ops}
    assert interp.get_input_details()[0]["index"] in delegate["inputs"]
    assert interp.get_output_details()[0]["index"] in delegate["outputs"]  # nothing runs after it on the CPU
