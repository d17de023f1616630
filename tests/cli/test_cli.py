import json
import os
import subprocess
import sys

import pytest
import torch

from edgeflow.zoo.cards import get_card
from edgeflow.zoo.checkpoint import save_checkpoint
from edgeflow.zoo.registry import create_model


def edgeflow(*args, **kw):
    return subprocess.run([sys.executable, "-m", "edgeflow.cli.main", *args], capture_output=True, text=True, **kw)


def test_help_imports_no_heavy_frameworks():
    code = "import sys, edgeflow.cli.main; print(sorted({'torch', 'tensorflow', 'onnx2tf', 'onnxruntime'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    r = edgeflow("--help")
    assert r.returncode == 0 and "export" in r.stdout and "train" in r.stdout


def test_unknown_model_is_one_line_exit_2():
    r = edgeflow("export", "sep_res18", "--int8")
    assert r.returncode == 2
    (line,) = r.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("edgeflow: error: unknown model 'sep_res18'. Did you mean: sep_res18_s3")
    assert line.endswith("See `edgeflow models list`.")


def test_existing_output_needs_force_and_a_users_folder_is_never_replaced(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("old")
    for force in ([], ["--force"]):
        r = edgeflow("export", "sep_res18_s3", "--random-init", "--out", str(tmp_path / "out"), *force)
        assert r.returncode == 2 and "not made by edgeflow" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "old"
    (tmp_path / "out" / ".edgeflow").write_text("{}")  # edgeflow's own folder: replaced with --force only
    r = edgeflow("export", "sep_res18_s3", "--random-init", "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and "pass --force" in r.stderr and (tmp_path / "out" / "keep.txt").exists()


@pytest.mark.parametrize("content,expected", [(None, "edgeflow train sep_res18_s3"), (b"garbage", "corrupt")])
def test_bad_checkpoint(tmp_path, content, expected):
    ckpt = tmp_path / "w.pt"
    if content is not None:
        ckpt.write_bytes(content)
    r = edgeflow("export", "sep_res18_s3", "--checkpoint", str(ckpt), "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == (["w.pt"] if content else [])


def test_missing_dataset(tmp_path):
    r = edgeflow("export", "sep_res18_s3", "--random-init", "--data", "fashion-mnist", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and "apt-get install dataset-fashion-mnist" in r.stderr
    assert not (tmp_path / "out").exists()


def test_models_list_and_info():
    r = edgeflow("models", "list")
    assert r.returncode == 0 and "sep_res18_s3" in r.stdout and "282,043" in r.stdout and "int8 KB" in r.stdout
    r = edgeflow("models", "list", "sep_res18_s3", "--json")
    (row,) = json.loads(r.stdout)
    assert row["int8_kb"] == get_card("sep_res18_s3").measured["tflite_int8_kb"] and row["weights_committed"]
    r = edgeflow("models", "list", "googlenet", "--json")  # trained once, weights left out of the repo
    (row,) = json.loads(r.stdout)
    assert not row["weights_committed"] and row["test_accuracy_pct"] == get_card("googlenet").not_committed[
        "test_accuracy_pct"]
    r = edgeflow("models", "list", "g*", env={**os.environ, "COLUMNS": "200"})
    assert f"{row['test_accuracy_pct']:.2f} *" in r.stdout and "* weights not committed" in r.stdout
    r = edgeflow("models", "info", "sep_res18_s3", "--json")
    assert r.returncode == 0 and '"params": 282043' in r.stdout


def test_train_refuses_to_overwrite(tmp_path):
    out = tmp_path / "w.pt"
    save_checkpoint(out, "sep_res18_s3", create_model("sep_res18_s3"), {})
    before = out.read_bytes()
    r = edgeflow("train", "sep_res18_s3", "--out", str(out))
    assert r.returncode == 2 and "--force" in r.stderr and out.read_bytes() == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: --device cuda would train")
def test_train_on_a_missing_gpu_is_one_message_before_anything_runs(tmp_path):
    r = edgeflow("train", "sep_res18_s3", "--device", "cuda", "--out", str(tmp_path / "w.pt"))
    assert r.returncode == 2 and "torch sees no CUDA GPU" in r.stderr and "Traceback" not in r.stderr
    assert "recipe:" not in r.stdout and not list(tmp_path.iterdir())


def test_unwritable_output_location(tmp_path):
    (tmp_path / "file").write_text("x")
    r = edgeflow("export", "sep_res18_s3", "--random-init", "--out", str(tmp_path / "file" / "out"))
    assert r.returncode == 2 and "cannot create" in r.stderr and "Traceback" not in r.stderr


def test_help_prints_the_defaults_written_in_brackets():
    """Help texts say "[default: ...]"; a markup parser would swallow the brackets and what is inside."""
    r = edgeflow("export", "--help", env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0 and "[default: models/NAME/weights.pt]" in r.stdout
    r = edgeflow("train", "--help", env={**os.environ, "COLUMNS": "200"})
    assert "Training epochs [default: the card's]" in r.stdout
