"""Your network, your images: a net defined in a file outside edgeflow (Hardswish, SiLU, squeeze-excitation,
3x32x32 RGB), trained briefly on a real ImageFolder (Fashion-MNIST images saved as grey 28x28 PNGs, so the
reader must convert and resize them to the contract), through `export --int8`, `parity --layers`, `bench
--device rpi4-emulated`, and the same net as a `torch.export` .pt2 and as an .onnx file; torchvision's
mobilenet_v3_small at 224x224 — each through the real CLI."""

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
                 "--calib-samples", "600", "--no-bench", "--out", str(out))
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
                 "--calib-samples", "600", "--no-bench", "--out", str(out))
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
    (["sep_res18_s3", "--input-shape", "3,32,32"], "is a zoo net"),
])
def test_bad_user_input_is_one_line(folder, tmp_path, args, message):
    r = edgeflow("export", *args, "--random-init", "--data", str(folder), "--no-bench", "--out", str(tmp_path / "o"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and message in lines[0], r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.xdist_group("device_suites")  # beside test_emulated_pi.py, which re-points the shared sysroot
def test_user_net_on_the_emulated_pi_is_bit_exact(folder, trained, tmp_path):
    out, results = tmp_path / "out", tmp_path / "results"
    r = edgeflow("export", SPEC, "--checkpoint", str(trained), *CONTRACT, "--data", str(folder), "--int8",
                 "--calib-samples", "600", "--no-bench", "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    r = edgeflow("bench", SPEC, "--device", "rpi4-emulated", "--precision", "int8", "--samples", "40",
                 "--iters", "3", "--export-dir", str(out), "--out", str(results))
    assert r.returncode == 0, r.stderr + r.stdout
    saved = json.loads((results / "int8.json").read_text())
    run = saved["runs"][0]
    assert saved["model"] == "se_hardswish_net.build" and saved["emulated"] and run["arch"] == "aarch64"
    assert run["cross_arch"]["bit_exact"] and run["cross_arch"]["values"] == 40 * len(CLASSES)
    # no PyTorch net can be rebuilt from the export: the reference is its model.onnx, on the export's own data
    assert saved["reference"] == "onnxruntime (export's model.onnx) fp32" and saved["data"] == str(folder)
    assert run["parity"]["agreement"] >= 0.95


def test_the_same_net_as_an_onnx_file(folder, trained, tmp_path):
    """An .onnx with a fixed batch of 1 and its own tensor names, calibrated from a flat folder (--calib)."""
    sys.path.insert(0, str(USER_FILE.parent))
    from se_hardswish_net import build

    net = build()
    net.load_state_dict(torch.load(trained, weights_only=True))
    torch.onnx.export(net.eval(), (torch.zeros(1, 3, 32, 32),), str(tmp_path / "se_net.onnx"), dynamo=False,
                      input_names=["images"], output_names=["scores"], opset_version=17)
    calib = tmp_path / "calib"
    calib.mkdir()
    for cls in CLASSES:
        for f in sorted((folder / "train" / cls).iterdir())[:25]:
            (calib / f"{cls}-{f.name}").write_bytes(f.read_bytes())
    out = tmp_path / "out"
    r = edgeflow("export", str(tmp_path / "se_net.onnx"), "--mean", "0.5", "--std", "0.5", "--data", str(folder),
                 "--calib", str(calib), "--int8", "--max-int8-drop", "3", "--no-bench", "--out", str(out))
    # 240 test images: one image is 0.42 pp, and this net saw 100 calibration images; the int8 gate is
    # widened so the test checks the .onnx path, not the quantiser's luck on the CPU it runs on
    assert r.returncode == 0, r.stderr + r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "onnx" and manifest["model"] == "se_net"
    assert manifest["source"]["definition_sha256"] == file_sha256(tmp_path / "se_net.onnx")
    assert manifest["calibration"]["split"] == "calib" and manifest["calibration"]["count"] == 100
    assert manifest["input_contract"]["onnx_input"]["shape"] == [1, 3, 32, 32]  # read from the file
    parity = json.loads((out / "parity.json").read_text())
    assert parity["reference"]["runtime"] == "onnxruntime (source .onnx)" and parity["passed"]
    assert parity["reference"]["accuracy"] > 0.8
    assert inspect_tflite(out / "model_int8.tflite")["fully_integer"]
    r = edgeflow("parity", str(tmp_path / "se_net.onnx"), "--mean", "0.5", "--std", "0.5", "--data", str(folder),
                 "--precisions", "int8", "--layers", "--layer-samples", "20", "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr + r.stdout
    assert json.loads((tmp_path / "p" / "layers.json").read_text())["tflite int8"]


def test_torchvision_mobilenet_v3_small_at_224(folder, tmp_path):
    """Random weights (nothing can be downloaded), BatchNorm statistics taken from the images so the logits
    are not ~0 (Hardswish halves tiny activations layer after layer): fp32 gates hold, int8 is fully integer."""
    from edgeflow.zoo.sources import _import_torchvision

    torchvision = _import_torchvision()
    torch.manual_seed(0)
    net = torchvision.models.get_model("mobilenet_v3_small", weights=None, num_classes=len(CLASSES))
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    images = load_dataset(str(folder), "train", img_size=224, in_chans=3).subset(64).images
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # a plain average over the batches below
    with torch.no_grad():
        for batch in torch.from_numpy(preprocess(images, mean, std)).split(16):
            net.train()(batch)
    torch.save(net.state_dict(), tmp_path / "mnv3.pt")
    out = tmp_path / "out"
    r = edgeflow("export", "torchvision:mobilenet_v3_small", "--checkpoint", str(tmp_path / "mnv3.pt"),
                 "--input-shape", "3,224,224", "--mean", ",".join(map(str, mean)), "--std", ",".join(map(str, std)),
                 "--data", str(folder), "--int8", "--calib-samples", "40", "--parity-samples", "80",
                 "--max-int8-drop", "100", "--no-bench", "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    parity = json.loads((out / "parity.json").read_text())
    fp32 = [row for row in parity["rows"] if row["precision"] == "fp32"]
    assert len(fp32) == 2 and all(not row["failures"] and row["agreement"] == 1.0 for row in fp32)
    assert parity["reference"]["max_abs_logit"] > 1e-3  # real logits, not Hardswish-vanished ones
    assert inspect_tflite(out / "model_int8.tflite")["fully_integer"]
    assert json.loads((out / "manifest.json").read_text())["source"]["kind"] == "torchvision"


def _onnx_file(path: Path, shape: list, out_shape: list, op: str = "Identity", dtype: str = "FLOAT") -> str:
    """A tiny hand-built ONNX model: ``op`` between input x and output y (ONNX Runtime runs every one)."""
    import onnx
    from onnx import helper

    elem = getattr(onnx.TensorProto, dtype)
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"], name="the_layer")], "g",
                              [helper.make_tensor_value_info("x", elem, shape)],
                              [helper.make_tensor_value_info("y", elem, out_shape)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return str(path)


def _lppool_net(path: Path) -> str:
    """conv → LpPool (an op onnx2tf has no converter for) → flatten → matmul: a valid classifier otherwise."""
    import onnx
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "w"),
               numpy_helper.from_array(rng.normal(size=(4 * 16 * 16, 4)).astype(np.float32), "fc")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="stem/conv"),
             helper.make_node("LpPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="stem/l2pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("MatMul", ["f", "fc"], ["y"], name="head")]
    graph = helper.make_graph(nodes, "lp", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                                          ["n", 3, 32, 32])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 4])], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return str(path)


@pytest.mark.parametrize("make,message", [
    (lambda d: _onnx_file(d / "dyn.onnx", ["n", 3, "h", "w"], ["n", 4]), "with a dynamic C, H or W"),
    (lambda d: _onnx_file(d / "vec.onnx", ["n", 128], ["n", 4]), "an image classifier takes N,C,H,W"),
    (lambda d: _onnx_file(d / "ids.onnx", ["n", 3, 32, 32], ["n", 4], dtype="INT64"), "is int64"),
    (lambda d: _onnx_file(d / "b8.onnx", [8, 3, 32, 32], [8, 4]), "has a fixed batch of 8"),
    (lambda d: (d / "junk.onnx").write_text("not onnx") and str(d / "junk.onnx"), "is not a valid ONNX model"),
    (lambda d: _lppool_net(d / "lp.onnx"),
     "onnx2tf cannot convert LpPool at layer 'stem/l2pool': onnx2tf has no converter for this op"),
])
def test_bad_onnx_is_one_line(folder, tmp_path, make, message):
    spec = make(tmp_path)
    r = edgeflow("export", spec, "--data", str(folder), "--no-bench", "--out", str(tmp_path / "o"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and message in lines[0], r.stderr
    assert not (tmp_path / "o").exists()


def test_onnx_contract_must_match_the_file(folder, tmp_path):
    spec = _lppool_net(tmp_path / "lp.onnx")
    r = edgeflow("export", spec, "--input-shape", "3,28,28", "--data", str(folder), "--no-bench")
    assert r.returncode == 2 and "lp.onnx takes 3x32x32 images, but the contract says 3x28x28" in r.stderr
    r = edgeflow("export", spec, "--random-init", "--data", str(folder), "--no-bench")
    assert r.returncode == 2 and "carries its own weights" in r.stderr


def test_a_zoo_architecture_trained_on_your_images(folder, tmp_path):
    """`train NAME --data FOLDER --input-shape 3,32,32` records the contract in the checkpoint; export builds
    the zoo architecture for it, under its own name, and never touches the zoo net's committed weights."""
    weights = tmp_path / "sep32.pt"
    r = edgeflow("train", "sep_res18_s3", "--data", str(folder), "--input-shape", "3,32,32", "--epochs", "1",
                 "--max-train-samples", "96", "--max-test-samples", "40", "--val-samples", "0", "--batch-size",
                 "32", "--quiet", "--out", str(weights))
    assert r.returncode == 0, r.stderr + r.stdout
    meta = torch.load(weights, weights_only=True)["meta"]
    assert meta["input_contract"]["img_size"] == 32 and meta["input_contract"]["classes"] == sorted(CLASSES)
    out = tmp_path / "out"
    r = edgeflow("export", "sep_res18_s3", "--checkpoint", str(weights), "--data", str(folder), "--parity-samples",
                 "40", "--no-bench", "--out", str(out))
    assert r.returncode == 0, r.stderr + r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == "sep_res18_s3-3x32x32" and manifest["source"]["kind"] == "zoo-architecture"
    assert manifest["input_contract"]["tflite_input"]["shape"] == [1, 32, 32, 3]
    assert json.loads((out / "parity.json").read_text())["passed"]


def test_a_named_dataset_that_does_not_fit_the_contract_is_one_line(tmp_path):
    """Fashion-MNIST is 1x28x28: a 3x32x32 contract does not fit it (an ImageFolder would be converted)."""
    r = edgeflow("export", SPEC, "--random-init", *CONTRACT, "--classes", ",".join(CLASSES), "--data",
                 "fashion-mnist-embedded", "--no-bench", "--out", str(tmp_path / "o"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "has 1x28x28 images and 10 classes" in lines[0], r.stderr
    assert not (tmp_path / "o").exists()
