"""A second converter: litert-torch (PyTorch → LiteRT directly) beside onnx2tf on the same nets, every
converter × precision in one parity table, each file checked from its own tensors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgeflow.export.inspect import inspect_tflite
from edgeflow.files import file_sha256

GMP_NET = Path(__file__).resolve().parent.parent / "tests" / "user_nets" / "gmp_net.py"
pytestmark = pytest.mark.xdist_group("litert")


def edgeflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeflow.cli.main", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> Path:
    """sep_res18_s3 (committed weights) through both converters, fp32 + int8, parity on the embedded test set."""
    out = tmp_path_factory.mktemp("both") / "sep_res18_s3"
    r = edgeflow("export", "sep_res18_s3", "--int8", "--converter", "all", "--calib-samples", "200", "--no-bench",
                 "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    return out


def test_both_converters_pass_the_gates_in_one_table(both):
    parity = json.loads((both / "parity.json").read_text())
    rows = {(r["runtime"], r["precision"]): r for r in parity["rows"]}
    assert {("tflite", "fp32"), ("tflite", "int8"), ("tflite/litert-torch", "fp32"),
            ("tflite/litert-torch", "int8")} <= set(rows)
    assert parity["passed"] and parity["samples"] == 10000  # the whole embedded test set
    assert rows[("tflite/litert-torch", "fp32")]["max_abs_diff"] < 1e-3
    assert parity["reference"]["accuracy"] - rows[("tflite/litert-torch", "int8")]["accuracy"] <= 0.01


def test_each_file_is_in_the_manifest_with_its_converter_and_checked_from_its_tensors(both):
    manifest = json.loads((both / "manifest.json").read_text())
    entries = {a["file"]: a for a in manifest["artifacts"]}
    for name, converter in (("model_int8.tflite", "onnx2tf"), ("model_int8.litert-torch.tflite", "litert-torch")):
        entry = entries[name]
        assert entry["converter"] == converter and entry["sha256"] == file_sha256(both / name)
        assert entry["fully_integer"] == inspect_tflite(both / name)["fully_integer"]  # read from the file
    assert entries["model_int8.tflite"]["fully_integer"]
    assert entries["model_int8.litert-torch.tflite"]["converter_version"] == manifest["tools"]["litert-torch"]
    assert entries["model_int8.litert-torch.tflite"]["input"]["dtype"] == "int8"  # what the file expects


@pytest.mark.xdist_group("device_suites")  # beside test_emulated_pi.py, which re-points the shared sysroot
def test_litert_int8_is_bit_exact_on_the_emulated_pi(tmp_path):
    out = tmp_path / "lt"
    r = edgeflow("export", "sep_res18_s3", "--int8", "--converter", "litert-torch", "--parity-samples", "100",
                 "--calib-samples", "100", "--no-bench", "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    assert not (out / "model.onnx").exists()  # litert-torch alone takes the PyTorch net directly
    r = edgeflow("bench", "sep_res18_s3", "--export-dir", str(out), "--converter", "litert-torch", "--device",
                 "rpi4-emulated", "--precision", "int8", "--samples", "30", "--iters", "3", "--out", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr + r.stdout
    saved = json.loads((tmp_path / "r" / "int8.json").read_text())
    run = saved["runs"][0]
    assert saved["converter"] == "litert-torch" and run["arch"] == "aarch64"
    assert run["cross_arch"]["bit_exact"] and run["cross_arch"]["values"] == 300


@pytest.mark.parametrize("name", ["dilated_dsnet_050", "sd_resnet18_lite", "sresnet", "cresnet50"])
def test_one_net_per_family_through_both_converters(name, tmp_path):
    """fp32 here (int8 of every family through both converters is measured by bench/bench_converters.py;
    int8 through both is tested on sep_res18_s3 above)."""
    out = tmp_path / name
    r = edgeflow("export", name, "--converter", "all", "--parity-samples", "300", "--no-bench", "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    parity = json.loads((out / "parity.json").read_text())
    runtimes = {(row["runtime"], row["precision"]) for row in parity["rows"]}
    assert {("tflite/litert-torch", "fp32"), ("tflite", "fp32"), ("onnxruntime", "fp32")} == runtimes
    assert parity["passed"]  # the float files of both converters match PyTorch within the card's gates


def test_a_litert_failure_names_the_op_and_onnx2tf_still_delivers(tmp_path):
    out = tmp_path / "gmp"
    r = edgeflow("export", f"{GMP_NET}:build", "--random-init", "--input-shape", "1,28,28", "--int8",
                 "--converter", "all", "--parity-samples", "100", "--calib-samples", "50", "--no-bench",
                 "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert "aten.adaptive_max_pool2d" in manifest["converter_failures"]["litert-torch"]
    assert "litert-torch: FAILED" in r.stdout and (out / "model_int8.tflite").is_file()
    assert not list(out.glob("*.litert-torch.tflite"))
    r = edgeflow("export", f"{GMP_NET}:build", "--random-init", "--input-shape", "1,28,28", "--converter",
                 "litert-torch", "--no-bench", "--out", str(tmp_path / "alone"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "no lowering for the op aten.adaptive_max_pool2d" in lines[0]
    assert not (tmp_path / "alone").exists()


def test_without_the_extra_the_converter_says_how_to_install_it(monkeypatch):
    from edgeflow.errors import EdgeflowError
    from edgeflow.export import litert_torch

    monkeypatch.setattr(litert_torch, "installed_version", lambda: None)
    with pytest.raises(EdgeflowError, match=r"pip install 'edgeflow\[litert\]'"):
        litert_torch.require()
