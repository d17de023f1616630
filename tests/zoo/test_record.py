"""`edgeflow models record`: the card gets the checkpoint's training record and accuracies."""

import json
import shutil

import pytest

from edgeflow.errors import EdgeflowError
from edgeflow.paths import model_dir
from edgeflow.zoo.cards import get_card
from edgeflow.zoo.checkpoint import save_checkpoint
from edgeflow.zoo.record import record
from edgeflow.zoo.registry import create_model

META = {"dataset": "fashion-mnist", "train_samples": 55000, "val_samples": 5000, "epochs": 2, "best_epoch": 2,
        "command": "edgeflow train vgg10 --data fashion-mnist --epochs 2 --force --half-weights",
        "wall_s": 600.0, "test_accuracy": 0.9123, "test_samples": 10000, "weights_dtype": "float16"}


@pytest.fixture
def home(tmp_path, monkeypatch):
    shutil.copytree(model_dir("vgg10"), tmp_path / "models" / "vgg10")
    monkeypatch.setenv("EDGEFLOW_HOME", str(tmp_path))
    save_checkpoint(tmp_path / "models" / "vgg10" / "weights.pt", "vgg10", create_model("vgg10"), META)
    return tmp_path


def _parity(path, model, accuracy):
    rows = [{"runtime": "onnxruntime", "precision": "fp32", "accuracy": 0.5},
            {"runtime": "tflite", "precision": "int8", "accuracy": accuracy}]
    path.write_text(json.dumps({"model": model, "rows": rows}))
    return path


def test_record_writes_trained_section_and_accuracies_and_replaces_an_older_record(home):
    parity = _parity(home / "parity.json", "vgg10", 0.9101)
    record("vgg10", parity, "test box")
    record("vgg10", _parity(home / "parity.json", "vgg10", 0.9050), "test box")  # again: replaces, not appends
    card = get_card("vgg10")
    assert card.trained["command"] == "edgeflow train vgg10 --data fashion-mnist --epochs 2 --half-weights"
    assert card.trained["epochs"] == 2 and card.trained["wall_min"] == 10.0
    assert card.trained["weights_dtype"] == "float16"
    assert card.measured["test_accuracy_pct"] == 91.23 and card.measured["tflite_int8_accuracy_pct"] == 90.50
    text = (home / "models" / "vgg10" / "card.toml").read_text()
    assert text.count("[trained]") == 1 and text.count("test_accuracy_pct") == 1
    assert card.measured["params"] == 4100938 and card.train["epochs"] == 8  # the rest of the card stays


def test_record_refuses_another_nets_parity_report(home):
    before = (home / "models" / "vgg10" / "card.toml").read_text()
    with pytest.raises(EdgeflowError, match="parity report of 'sep_res18_s3'"):
        record("vgg10", _parity(home / "parity.json", "sep_res18_s3", 0.9), "test box")
    assert (home / "models" / "vgg10" / "card.toml").read_text() == before


def test_record_names_the_gpu_a_cuda_run_trained_on(home):
    gpu_meta = {**META, "device": "NVIDIA H100 80GB HBM3"}
    save_checkpoint(home / "models" / "vgg10" / "weights.pt", "vgg10", create_model("vgg10"), gpu_meta)
    record("vgg10", None)
    text = (home / "models" / "vgg10" / "card.toml").read_text()
    assert "wall_min = 10.0  # NVIDIA H100 80GB HBM3\n" in text
    save_checkpoint(home / "models" / "vgg10" / "weights.pt", "vgg10", create_model("vgg10"), META)  # a CPU run
    record("vgg10", None)
    text = (home / "models" / "vgg10" / "card.toml").read_text()
    assert "wall_min = 10.0  # " in text and "H100" not in text and " CPU\n" in text


def test_record_of_new_weights_drops_the_not_committed_note(tmp_path, monkeypatch):
    shutil.copytree(model_dir("googlenet"), tmp_path / "models" / "googlenet")
    monkeypatch.setenv("EDGEFLOW_HOME", str(tmp_path))
    assert get_card("googlenet").not_committed  # the committed card: weights left out
    meta = {**META, "command": "edgeflow train googlenet --data fashion-mnist --device cuda --epochs 11"}
    save_checkpoint(tmp_path / "models" / "googlenet" / "weights.pt", "googlenet", create_model("googlenet"), meta)
    record("googlenet", None, "test box")
    card = get_card("googlenet")
    assert not card.not_committed and card.trained["command"] == meta["command"]
    assert card.measured["test_accuracy_pct"] == 91.23 and card.train["epochs"] == 15
