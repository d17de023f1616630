"""Your network, your images: a net defined in a file outside edgeflow (Hardswish, SiLU, squeeze-excitation,
3x32x32 RGB), trained briefly on a real ImageFolder (Fashion-MNIST images saved as grey 28x28 PNGs, so the
reader must convert and resize them to the contract), through `export --int8`, `parity --layers`, and the
same net as a `torch.export` .pt2 — each through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeflow.data import load_dataset, preprocess
from edgeflow.export.inspect import inspect_tflite
from edgeflow.files import file_sha256

USER_FILE = Path(__file__).resolve().parent.parent / "tests" / "user_nets" / "se_hardswish_net.py"
SPEC = f"{USER_FILE}:build"
CLASSES = ("T-shirt", "Trouser", "Sneaker", "Bag")  # Fashion-MNIST labels 0, 1, 7, 8
CONTRACT = ["--input-shape", "3,32,32", "--mean", "0.5", "--std", "0.5"]
pytestmark = pytest.mark.xdist_group("user_nets")


def edgeflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeflow.cli.main", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """train/ and test/ ImageFolders of real Fashion-MNIST images, 150 / 60 per class."""
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    for split, per_class in (("train", 150), ("test", 60)):
        ds = load_dataset("fashion-mnist-embedded", split)
        for name, label in zip(CLASSES, (0, 1, 7, 8)):
            (root / split / name).mkdir(parents=True)
            for i, idx in enumerate(np.flatnonzero(ds.labels == label)[:per_class]):
                Image.fromarray(ds.images[idx, 0]).save(root / split / name / f"{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def trained(folder, tmp_path_factory) -> Path:
    """What a user brings: the net trained by their own loop (here 6 short epochs), saved as a state_dict."""
    sys.path.insert(0, str(USER_FILE.parent))
    from se_hardswish_net import build

    train = load_dataset(str(folder), "train", img_size=32, in_chans=3)
    x, y = torch.from_numpy(preprocess(train.images, (0.5,) * 3, (0.5,) * 3)), torch.from_numpy(train.labels)
    torch.manual_seed(0)
    net = build()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(6):
        for idx in torch.randperm(len(x)).split(32):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    path = tmp_path_factory.mktemp("weights") / "state.pt"
    torch.save(net.state_dict(), path)
    return path


def test_user_net_exports_to_full_int8_and_keeps_its_accuracy(folder, trained, tmp_path):
    out = tmp_path / "out"
    r = edgeflow("export", SPEC, "--checkpoint", str(trained), *CONTRACT, "--data", str(folder), "--int8",
                 "--calib-samples", "200", "--no-bench", "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    assert "converted from grey to RGB" in r.stderr + r.stdout and "resized/cropped to 32x32" in r.stderr + r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == "se_hardswish_net.build"
    assert manifest["source"]["kind"] == "python-file" and manifest["source"]["spec"] == SPEC
    assert manifest["source"]["definition_sha256"] == file_sha256(USER_FILE)
    assert manifest["source"]["sha256"] == file_sha256(trained)
    assert manifest["input_contract"]["classes"] == sorted(CLASSES)  # the folder's class names, label order
    assert manifest["input_contract"]["tflite_input"]["shape"] == [1, 32, 32, 3]
    assert inspect_tflite(out / "model_int8.tflite")["fully_integer"]  # read from the file itself
    parity = json.loads((out / "parity.json").read_text())
    assert parity["passed"] and parity["reference"]["accuracy"] > 0.8  # 4 classes: chance is 0.25
    int8 = next(r for r in parity["rows"] if r["runtime"] == "tflite" and r["precision"] == "int8")
    assert 100 * (parity["reference"]["accuracy"] - int8["accuracy"]) <= 1.0


def test_user_net_parity_names_its_worst_int8_layers(folder, trained, tmp_path):
    r = edgeflow("parity", SPEC, "--checkpoint", str(trained), *CONTRACT, "--data", str(folder), "--precisions",
                 "fp32,int8", "--layers", "--layer-samples", "50", "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr + r.stdout
    layers = json.loads((tmp_path / "p" / "layers.json").read_text())
    assert layers["model"] == "se_hardswish_net.build" and layers["onnxruntime int8 (QDQ)"]


def test_the_same_net_as_a_pt2_program(folder, trained, tmp_path):
    sys.path.insert(0, str(USER_FILE.parent))
    from se_hardswish_net import build

    net = build()
    net.load_state_dict(torch.load(trained, weights_only=True))
    program = torch.export.export(net.eval(), (torch.zeros(1, 3, 32, 32),))
    torch.export.save(program, tmp_path / "se_net.pt2")
    out = tmp_path / "out"
    r = edgeflow("export", str(tmp_path / "se_net.pt2"), *CONTRACT, "--data", str(folder), "--int8",
                 "--calib-samples", "200", "--no-bench", "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "pt2" and manifest["model"] == "se_net"
    assert manifest["source"]["definition_sha256"] == file_sha256(tmp_path / "se_net.pt2")
    assert json.loads((out / "parity.json").read_text())["passed"]
    assert inspect_tflite(out / "model_int8.tflite")["fully_integer"]


@pytest.mark.parametrize("args,message", [
    ([f"{USER_FILE}:nope", *CONTRACT], "defines no function 'nope'"),
    ([f"{USER_FILE}:not_a_net", *CONTRACT], "returned str, not a torch.nn.Module"),
    (["missing_file.py:build", *CONTRACT], "no such file: missing_file.py"),
    ([SPEC], "give its input contract"),
    ([SPEC, "--input-shape", "1,32,32"], "does not take the contract's 1x32x32 input"),
    ([SPEC, "--input-shape", "3,32,32", "--classes", "a,b,c"], "the contract names 3 classes"),
    ([SPEC, *CONTRACT, "--classes", ",".join(CLASSES)], "are not the net's"),  # not the folder's order
    ([SPEC, "--input-shape", "3,32"], "--input-shape must be C,H,W"),
    (["model.onnx"], "not supported yet"),
    (["sep_res18_s3", "--input-shape", "3,32,32"], "is a zoo net"),
])
def test_bad_user_input_is_one_line(folder, tmp_path, args, message):
    r = edgeflow("export", *args, "--random-init", "--data", str(folder), "--no-bench", "--out", str(tmp_path / "o"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and message in lines[0], r.stderr
    assert not (tmp_path / "o").exists()
