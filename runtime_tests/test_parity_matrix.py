"""CI parity suite: nets × precisions × runtimes, gated by each card's tolerances.

* every registered net: PyTorch vs ONNX Runtime fp32 and TFLite fp32 (its checkpoint when committed,
  seeded random weights otherwise: float parity does not depend on training);
* sep_res18_s3 (committed checkpoint): the whole chain — ONNX Runtime fp32/int8, TFLite fp32/fp16/dynamic/
  int8 — on all 10,000 real test images, then the per-layer localisation;
* one net per family (``INT8_PER_FAMILY``): fp32 and full-int8 TFLite, fully integer, int8 logits close;
* int8 of every net (all precisions, int8 size vs the card) runs only under ``-m slow`` (``make test-all``):
  untrained nets have no accuracy to keep.
"""

import json
from dataclasses import replace

import pytest
import torch

from edgeflow.export.artifact import Precision
from edgeflow.workflows.export import ExportOptions, run_export
from edgeflow.zoo.cards import get_card
from edgeflow.zoo.checkpoint import default_checkpoint
from edgeflow.zoo.registry import list_models

ALL = (Precision.FP32, Precision.FP16, Precision.DYNAMIC, Precision.INT8)


def _options(name, tmp_path, **kw):
    trained = default_checkpoint(name).is_file()
    return ExportOptions(out_dir=tmp_path / name, random_init=not trained, bench=False, **kw)


# `make test` takes one net per family through int8 export + parity: sepnet is sep_res18_s3 (full chain below);
# for the others the net whose `edgeflow export NAME --int8` was fastest (2 CPU cores). Their fp32 rows are
# checked there, so the fp32-only test skips them (one conversion per net, not two).
INT8_PER_FAMILY = {"dilated": "dilated_dsnet_050", "cresnet": "cresnet50", "slim": "densenet_cifar",
                   "selfdistill": "sd_vgg11_lite"}


@pytest.mark.parametrize("name", [n for n in list_models() if n not in INT8_PER_FAMILY.values()])
def test_fp32_runtimes_match_pytorch(name, tmp_path):
    result = run_export(name, _options(name, tmp_path, parity_samples=200))
    rows = {r.label: r for r in result.parity.rows}
    assert set(rows) == {"onnxruntime fp32", "tflite fp32"}
    assert result.parity, result.parity.failures()


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_int8_every_net(name, tmp_path):
    result = run_export(name, _options(name, tmp_path, precisions=ALL, onnx_int8=True, parity_samples=1000))
    assert {r.precision for r in result.parity.rows} == {"fp32", "fp16", "dynamic", "int8"}
    if default_checkpoint(name).is_file():
        assert result.parity, result.parity.failures()
    card_kb = get_card(name).measured["tflite_int8_kb"]  # the card (and README) must not drift from the file
    int8_kb = (result.out_dir / "model_int8.tflite").stat().st_size / 1024
    assert int8_kb == pytest.approx(card_kb, rel=0.03), f"update tflite_int8_kb in models/{name}/card.toml"


def test_int8_per_family_covers_every_family():
    assert set(INT8_PER_FAMILY) | {"sepnet"} == {get_card(n).family for n in list_models()}
    assert all(get_card(n).family == f for f, n in INT8_PER_FAMILY.items())


@pytest.mark.parametrize("name", INT8_PER_FAMILY.values())
def test_fp32_and_int8_one_net_per_family(name, tmp_path):
    from edgeflow.export.inspect import inspect_tflite

    opts = _options(name, tmp_path, precisions=(Precision.FP32, Precision.INT8), parity_samples=200,
                    calib_samples=100)
    result = run_export(name, opts)
    info = inspect_tflite(result.out_dir / "model_int8.tflite")
    assert info["fully_integer"] and info["integer_io"], info["tensor_dtypes"]
    rows = {r.label: r for r in result.parity.rows}
    assert set(rows) == {"onnxruntime fp32", "tflite fp32", "tflite int8"}
    if default_checkpoint(name).is_file():
        assert result.parity, result.parity.failures()
    else:  # random weights: no accuracy to keep, and near-tied logits make top-1 agreement noise
        assert not rows["onnxruntime fp32"].failures and not rows["tflite fp32"].failures, result.parity.failures()
    int8 = rows["tflite int8"]
    assert int8.cosine > 0.99 and int8.sqnr_db > 20, int8


def test_sep_res18_s3_full_chain_on_10k_images(tmp_path):
    from edgeflow.check.localize import layer_errors, tflite_layer_errors
    from edgeflow.data import load_dataset, preprocess

    name = "sep_res18_s3"
    result = run_export(name, _options(name, tmp_path, precisions=ALL, onnx_int8=True))
    report = result.parity
    assert report.samples == 10000
    assert [r.label for r in report.rows] == ["onnxruntime fp32", "onnxruntime int8", "tflite fp32",
                                             "tflite fp16", "tflite dynamic", "tflite int8"]
    assert report, report.failures()
    for row in report.rows:
        assert row.cosine > 0.99 and (row.sqnr_db is None or row.sqnr_db > 15), row
    (qdq,) = [a for a in result.manifest["artifacts"] if a["file"] == "model_int8_qdq.onnx"]
    chosen = qdq["activations"]  # int8 or uint8 activations, whichever ran faster on this host
    assert chosen["activation_type"] == min(chosen["p50_ms"], key=chosen["p50_ms"].get)
    card = get_card(name)
    test = load_dataset("fashion-mnist-embedded", "test").subset(50)
    layers = layer_errors(result.out_dir / "model.onnx", result.out_dir / "model_int8_qdq.onnx",
                          preprocess(test.images, card.mean, card.std))
    assert layers and layers[0].local_sqnr_db <= layers[-1].local_sqnr_db
    x = preprocess(test.images, card.mean, card.std)
    tfl = tflite_layer_errors(result.out_dir / "model.onnx", result.out_dir / "model_int8.tflite", x)
    assert len(tfl) == 35  # every conv of the net matched to its TFLite op
    bad = [r for r in tfl if not (15 < r.local_sqnr_db and r.cumulative_sqnr_db > 10)]
    assert not bad, bad


@pytest.mark.parametrize("exit_", [1, 4])
def test_self_distillation_exit_deploys_alone(exit_, tmp_path):
    from edgeflow.export.inspect import inspect_onnx

    result = run_export("sd_resnet18_lite", _options("sd_resnet18_lite", tmp_path, parity_samples=200, exit=exit_))
    assert result.parity, result.parity.failures()
    assert result.manifest["source"]["exit"] == exit_
    from edgeflow.zoo.registry import create_model

    net = create_model("sd_resnet18_lite")
    used = [net.stem, *net.stages[:exit_], net.heads[exit_ - 1]]  # what exit k runs; deeper stages must be absent
    expected = sum(isinstance(m, torch.nn.Conv2d) for part in used for m in part.modules())
    assert inspect_onnx(result.out_dir / "model.onnx")["ops"]["Conv"] == expected
    assert expected < sum(isinstance(m, torch.nn.Conv2d) for m in net.modules())


def test_exit_on_a_plain_net_is_an_input_error(tmp_path):
    from edgeflow.errors import EdgeflowError

    with pytest.raises(EdgeflowError, match="single classifier"):
        run_export("sep_res18_s3", _options("sep_res18_s3", tmp_path, exit=2))
    with pytest.raises(EdgeflowError, match="exit must be 1..4"):
        run_export("sd_vgg11_lite", _options("sd_vgg11_lite", tmp_path, exit=5))


def test_latency_of_an_exit_times_that_exit(tmp_path):
    """The PyTorch latency worker rebuilds the net from its name: it must deploy the exported exit, not the
    full-depth net (it once timed all four stages for `--exit 1`)."""
    opts = replace(_options("sd_resnet18_lite", tmp_path, parity_samples=50, exit=1), bench=True, bench_iters=5)
    result = run_export("sd_resnet18_lite", opts)
    (pytorch,) = [r for r in result.bench if r.runtime == "pytorch"]
    assert pytorch.exit == 1 and pytorch.iters == 5
    saved = json.loads((result.out_dir / "parity.json").read_text())["latency"]
    assert [r["exit"] for r in saved if r["runtime"] == "pytorch"] == [1]
