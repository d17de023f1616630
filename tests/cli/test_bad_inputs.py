"""Bad input through the real CLI: for each case one line on stderr, the right exit code, no traceback, and
nothing created or deleted outside edgeflow's staging area (the workspace and the repo's data folders are
snapshotted before and after).

Every case runs ``python -m edgeflow.cli.main`` in a fresh process with the workspace as its working
folder and its HOME; the fixtures (a real export, checkpoints, profiles, data folders) are made once.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeflow.paths import project_root

NAME = "sep_res18_s3"
REPO = project_root()


def _snapshot(*roots: Path) -> dict[str, tuple]:
    seen = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                seen[str(p)] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns)
    return seen


def _checkpoint(path: Path, state: dict, model: str = NAME) -> Path:
    from edgeflow.zoo.checkpoint import FORMAT

    torch.save({"format": FORMAT, "model": model, "state_dict": state, "meta": {}}, path)
    return path


def _profile(ws: Path, name: str, body: str) -> str:
    path = ws / "profiles" / f"{name}.toml"
    path.write_text(body)
    return str(path)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """The workspace: every file a bad input needs, made once per worker."""
    from PIL import Image

    from edgeflow.export.artifact import Precision
    from edgeflow.workflows.export import ExportOptions, run_export
    from edgeflow.zoo.registry import create_model

    ws = tmp_path_factory.mktemp("bad_inputs")
    (ws / "home").mkdir()
    (ws / "profiles").mkdir()
    run_export(NAME, ExportOptions(precisions=(Precision.FP32, Precision.INT8), out_dir=ws / "export",
                                   bench=False, parity_samples=50))
    shutil.copytree(ws / "export", ws / "tampered")  # an int8 file that is not the one exported
    data = bytearray((ws / "tampered" / "model_int8.tflite").read_bytes())
    data[-100] ^= 0xFF
    (ws / "tampered" / "model_int8.tflite").write_bytes(bytes(data))
    shutil.copytree(ws / "export", ws / "foreign")  # another net's manifest
    text = (ws / "foreign" / "manifest.json").read_text().replace(f'"model": "{NAME}"', '"model": "cov_res18_s3"')
    (ws / "foreign" / "manifest.json").write_text(text)

    (ws / "userdir").mkdir()
    (ws / "userdir" / "notes.txt").write_text("mine")
    (ws / "afile").write_text("a file")
    (ws / "empty").mkdir()
    (ws / "garbage.pt").write_bytes(b"not a checkpoint")
    state = create_model(NAME).state_dict()
    nan = {k: v.clone() for k, v in state.items()}
    nan[next(k for k, v in nan.items() if v.is_floating_point())].fill_(float("nan"))
    _checkpoint(ws / "nan.pt", nan)
    _checkpoint(ws / "other_net.pt", state, model="cov_res18_s3")
    wrong = dict(state)
    wrong.pop("stem.0.weight" if "stem.0.weight" in wrong else next(iter(wrong)))
    _checkpoint(ws / "wrong_keys.pt", wrong)
    _checkpoint(ws / "w.pt", state)

    for cls in ("a", "b"):
        (ws / "imgs" / cls).mkdir(parents=True)
        Image.new("L", (28, 28)).save(ws / "imgs" / cls / "0.png")
    (ws / "imgs" / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (ws / "cifar" / "cifar-10-batches-py").mkdir(parents=True)
    with open(ws / "cifar" / "cifar-10-batches-py" / "test_batch", "wb") as f:
        f.write(pickle.dumps({"data": np.zeros((1, 3072), np.uint8)}).replace(b"numpy", b"posix", 1))
    not_exec = ws / "not-executable"
    not_exec.write_text("#!/bin/sh\n")
    not_exec.chmod(0o644)

    _profile(ws, "timeout_abc", 'transport = "local"\ntimeout_s = "abc"\n')
    _profile(ws, "python_int", 'transport = "local"\npython = 3\n')
    _profile(ws, "threads_many", 'transport = "local"\nthreads = "many"\n')
    _profile(ws, "ssh_options_str", 'transport = "ssh"\nhost = "h"\nssh_options = "StrictHostKeyChecking=no"\n')
    _profile(ws, "typo", 'transport = "local"\ntimout_s = 5\n')
    _profile(ws, "negative", 'transport = "local"\ntimeout_s = -5\n')
    _profile(ws, "dash_host", 'transport = "ssh"\nhost = "-oProxyCommand=touch pwned"\n')
    _profile(ws, "dash_user", 'transport = "ssh"\nhost = "pi.local"\nuser = "-F/dev/null"\n')
    _profile(ws, "pigeon", 'transport = "carrier-pigeon"\n')
    _profile(ws, "not_toml", "transport = local\n[[[\n")
    _profile(ws, "port", 'transport = "ssh"\nhost = "h"\nport = 70000\n')
    _profile(ws, "adb_not_exec", f'transport = "adb"\nserial = "x"\nadb = "{not_exec}"\n')
    _profile(ws, "python_not_exec", f'transport = "local"\npython = "{not_exec}"\ninterpreter = "ai_edge_litert"\n')
    return ws


P = "{ws}/profiles/"
# (id, argv, exit code, text the one line must hold); "{ws}" and "{repo}" are filled in
CASES = [
    ("unknown-model", ["export", "sep_res18"], 2, "unknown model 'sep_res18'"),
    ("out-empty-string", ["export", NAME, "--out", "", "--force"], 2, "current folder"),
    ("out-dot", ["export", NAME, "--out", ".", "--force"], 2, "current folder"),
    ("out-home", ["export", NAME, "--out", "{ws}/home", "--force"], 2, "home folder"),
    ("out-repo-root", ["export", NAME, "--out", "{repo}", "--force"], 2, "repository root"),
    ("out-parent-of-cwd", ["export", NAME, "--out", "{ws}/..", "--force"], 2, "parent of the current folder"),
    ("out-user-folder-force", ["export", NAME, "--out", "{ws}/userdir", "--force"], 2, "not made by edgeflow"),
    ("out-is-a-file-force", ["export", NAME, "--out", "{ws}/afile", "--force"], 2, "is a file"),
    ("out-exists-no-force", ["export", NAME, "--out", "{ws}/export"], 2, "pass --force"),
    ("parity-out-user-folder", ["parity", NAME, "--out", "{ws}/userdir", "--force"], 2, "not made by edgeflow"),
    ("parity-out-exists-no-force", ["parity", NAME, "--out", "{ws}/export"], 2, "pass --force"),
    ("checkpoint-missing", ["export", NAME, "--checkpoint", "{ws}/nope.pt", "--out", "{ws}/o"], 2,
     "no checkpoint"),
    ("checkpoint-garbage", ["export", NAME, "--checkpoint", "{ws}/garbage.pt", "--out", "{ws}/o"], 2, "corrupt"),
    ("checkpoint-nan", ["export", NAME, "--checkpoint", "{ws}/nan.pt", "--out", "{ws}/o"], 2, "NaN or inf"),
    ("checkpoint-other-net", ["export", NAME, "--checkpoint", "{ws}/other_net.pt", "--out", "{ws}/o"], 2,
     "belongs to 'cov_res18_s3'"),
    ("checkpoint-missing-key", ["export", NAME, "--checkpoint", "{ws}/wrong_keys.pt", "--out", "{ws}/o"], 2,
     "does not fit 'sep_res18_s3': missing "),
    ("gate-agreement-2", ["export", NAME, "--min-agreement", "2", "--out", "{ws}/o"], 2, "--min-agreement 2.0"),
    ("gate-int8-drop-nan", ["export", NAME, "--max-int8-drop", "nan", "--out", "{ws}/o"], 2, "--max-int8-drop nan"),
    ("gate-abs-diff-negative", ["export", NAME, "--max-abs-diff", "-1", "--out", "{ws}/o"], 2, "--max-abs-diff"),
    ("gate-int8-agreement-1.5", ["export", NAME, "--min-int8-agreement", "1.5", "--out", "{ws}/o"], 2,
     "--min-int8-agreement 1.5"),
    ("parity-gate-int8-agreement-negative", ["parity", NAME, "--min-int8-agreement", "-1", "--out", "{ws}/o"], 2,
     "--min-int8-agreement"),
    ("fallback-without-int8", ["export", NAME, "--fallback", "auto", "--out", "{ws}/o"], 2, "add --int8"),
    ("fallback-unknown", ["export", NAME, "--int8", "--fallback", "sometimes", "--out", "{ws}/o"], 2,
     "unknown --fallback 'sometimes'; use one of none, auto"),
    ("fallback-litert-only", ["export", NAME, "--int8", "--fallback", "auto", "--converter", "litert-torch",
                              "--out", "{ws}/o"], 2, "keep the onnx2tf converter"),
    ("parity-mixed", ["parity", NAME, "--precisions", "fp32,mixed"], 2, "--int8 --fallback auto"),
    ("parity-latency", ["parity", NAME, "--precisions", "latency"], 2, "--int8 --optimize latency"),
    ("optimize-without-int8", ["export", NAME, "--optimize", "latency", "--out", "{ws}/o"], 2, "add --int8"),
    ("optimize-unknown", ["export", NAME, "--int8", "--optimize", "size", "--out", "{ws}/o"], 2,
     "unknown --optimize 'size'; use one of none, latency"),
    ("target-without-optimize", ["export", NAME, "--int8", "--target", "local", "--out", "{ws}/o"], 2,
     "add --optimize latency"),
    ("optimize-unknown-target", ["export", NAME, "--int8", "--optimize", "latency", "--target", "pi9",
                                 "--out", "{ws}/o"], 2, "no device profile 'pi9'"),
    ("optimize-gpu-target", ["export", NAME, "--int8", "--optimize", "latency", "--target", "desktop-gpu",
                             "--out", "{ws}/o"], 2, "runs no TFLite"),
    ("parity-gate-negative", ["parity", NAME, "--min-agreement", "-0.5", "--out", "{ws}/o"], 2, "--min-agreement"),
    ("dataset-unknown", ["export", NAME, "--data", "imagenet", "--out", "{ws}/o"], 2, "unknown dataset"),
    ("dataset-missing", ["export", NAME, "--data", "fashion-mnist", "--data-dir", "{ws}/empty", "--out", "{ws}/o"],
     2, "dataset-fashion-mnist"),
    ("imagefolder-broken-image", ["export", NAME, "--data", "{ws}/imgs", "--out", "{ws}/o"], 2, "cannot read image"),
    ("cifar-pickle-refused", ["export", NAME, "--data", "cifar10", "--data-dir", "{ws}/cifar", "--out", "{ws}/o"],
     2, "refused global"),
    ("cifar-no-data-dir", ["export", NAME, "--data", "cifar10", "--out", "{ws}/o"], 2, "needs --data-dir"),
    ("exit-on-single-head", ["export", NAME, "--exit", "2", "--out", "{ws}/o"], 2, "single classifier"),
    ("calib-samples-0", ["export", NAME, "--calib-samples", "0"], 2, "--calib-samples"),
    ("parity-int4", ["parity", NAME, "--precisions", "fp32,int4"], 2, "unknown precision"),
    ("bench-int4", ["bench", NAME, "--precision", "int4", "--export-dir", "{ws}/export"], 2,
     "unknown precision int4; use some of fp32, fp16, dynamic, int8"),
    ("bench-threads-0", ["bench", NAME, "--threads", "0", "--export-dir", "{ws}/export"], 2, "--threads must be >= 1"),
    ("bench-threads-word", ["bench", NAME, "--threads", "many"], 2, "comma-separated integers"),
    ("bench-tampered-int8", ["bench", NAME, "--export-dir", "{ws}/tampered", "--out", "{ws}/o"], 2,
     "model_int8.tflite does not match the sha256"),
    ("bench-foreign-manifest", ["bench", NAME, "--export-dir", "{ws}/foreign", "--out", "{ws}/o"], 2,
     "holds an export of 'cov_res18_s3'"),
    ("bench-no-export", ["bench", NAME, "--export-dir", "{ws}/empty"], 2, "run `edgeflow export"),
    ("bench-out-is-a-file", ["bench", NAME, "--export-dir", "{ws}/export", "--out", "{ws}/afile"], 2, "is a file"),
    ("bench-out-home", ["bench", NAME, "--export-dir", "{ws}/export", "--out", "{ws}/home"], 2, "home folder"),
    ("device-unknown", ["bench", NAME, "--device", "my-phone"], 2, "no device profile 'my-phone'"),
    ("profile-on-gpu", ["bench", NAME, "--device", "desktop-gpu", "--profile"], 2, "desktop GPU bench has no profile"),
    ("profile-timeout-abc", ["devices", "check", P + "timeout_abc.toml"], 2, "timeout_s must be"),
    ("profile-python-int", ["devices", "check", P + "python_int.toml"], 2, "python must be a string, got 3"),
    ("profile-threads-word", ["devices", "check", P + "threads_many.toml"], 2, "threads must be a list"),
    ("profile-ssh-options-string", ["devices", "check", P + "ssh_options_str.toml"], 2, "ssh_options must be a list"),
    ("profile-typo", ["devices", "check", P + "typo.toml"], 2, "unknown key 'timout_s' (did you mean 'timeout_s'?)"),
    ("profile-negative-timeout", ["devices", "check", P + "negative.toml"], 2, "positive number of seconds"),
    ("profile-dash-host", ["devices", "check", P + "dash_host.toml"], 2, "begins with '-'"),
    ("profile-dash-user", ["devices", "check", P + "dash_user.toml"], 2, "begins with '-'"),
    ("profile-transport", ["devices", "check", P + "pigeon.toml"], 2, "transport must be one of"),
    ("profile-not-toml", ["devices", "check", P + "not_toml.toml"], 2, "not valid TOML"),
    ("profile-port", ["devices", "check", P + "port.toml"], 2, "port must be 1-65535"),
    ("adb-not-executable", ["devices", "check", P + "adb_not_exec.toml"], 2, "cannot run"),
    ("python-not-executable", ["devices", "check", P + "python_not_exec.toml"], 2, "cannot run"),
    ("setup-non-emulated", ["devices", "setup", "local"], 2, "nothing to set up"),
    ("train-lr-inf", ["train", NAME, "--lr", "inf", "--out", "{ws}/t.pt"], 2, "lr must be a finite number"),
    ("train-lr-nan", ["train", NAME, "--lr", "nan", "--out", "{ws}/t.pt"], 2, "lr must be a finite number"),
    ("train-weight-decay-negative", ["train", NAME, "--weight-decay", "-1", "--out", "{ws}/t.pt"], 2,
     "weight_decay must be >= 0"),
    ("train-out-exists", ["train", NAME, "--out", "{ws}/w.pt"], 2, "pass --force"),
    ("train-epochs-0", ["train", NAME, "--epochs", "0"], 2, "--epochs"),
    ("models-info-unknown", ["models", "info", "resnet9000"], 2, "unknown model"),
    ("inspect-missing", ["inspect", "{ws}/nope.tflite"], 2, "no such file"),
    ("inspect-garbage", ["inspect", "{ws}/garbage.pt"], 2, "expected a .tflite or .onnx"),
    ("parity-samples-0", ["export", NAME, "--parity-samples", "0"], 2, "--parity-samples"),
    ("prune-out-folder", ["prune", "resnet50", "--ratio", "0.5", "--random-init", "--out", "{ws}/userdir"], 2,
     "is a folder"),
    ("unknown-option", ["export", NAME, "--bogus"], 2, "No such option: --bogus"),
]


@pytest.mark.parametrize("argv,code,text", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_touches_nothing(ws, argv, code, text):
    args = [a.replace("{ws}", str(ws)).replace("{repo}", str(REPO)) for a in argv]
    roots = (ws, REPO / "models", REPO / "devices", REPO / "data")
    before = _snapshot(*roots)
    env = {**os.environ, "HOME": str(ws / "home"), "COLUMNS": "300"}
    r = subprocess.run([sys.executable, "-m", "edgeflow.cli.main", *args], capture_output=True, text=True,
                       cwd=ws, env=env, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code, r.stderr
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("edgeflow: error: ") and text in lines[0], lines[0]
    assert _snapshot(*roots) == before  # nothing created, changed or deleted
    print(f"\nSWEEP | {' '.join(argv)} | {r.returncode} | {lines[0].replace(str(ws), 'WS')}")  # for the record (-s)


def test_the_sweep_is_wide():
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)
