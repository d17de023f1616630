"""The training loop: learning, run files, resume after Ctrl-C, distillation, recipes, bad input."""

import json
import os
import shlex
import signal
import subprocess
import sys

import pytest
import torch

from edgeflow.errors import EdgeflowError
from edgeflow.train import TrainConfig, train
from edgeflow.training.losses import distill_kl, self_distill_loss, teacher_student_loss
from edgeflow.training.recipe import recipe_from_card
from edgeflow.zoo.checkpoint import load_weights, read_checkpoint, save_checkpoint
from edgeflow.zoo.registry import create_model

DATA = "fashion-mnist-embedded"  # 2,000 real training images, 10,000 real test images
# the test pass on 1,000 of the 10,000 test images: the whole set took most of a short run's time
SMALL = dict(batch_size=64, lr=0.05, max_train_samples=2000, val_samples=200, max_test_samples=1000)


def test_short_run_learns_and_writes_checkpoint_metrics_and_curve(tmp_path):
    out = tmp_path / "w.pt"
    result = train("sep_res18_s3", out, data=DATA, config=TrainConfig(epochs=2, **SMALL), show_progress=False,
                   half_weights=True)
    assert result.test_accuracy > 0.5  # 1,800 real images, 2 epochs: far above the 10 % of chance
    stored = read_checkpoint(out, "sep_res18_s3")["state_dict"]
    assert {t.dtype for t in stored.values() if t.is_floating_point()} == {torch.float16}
    meta = load_weights(create_model("sep_res18_s3"), out, "sep_res18_s3")
    assert meta["weights_dtype"] == "float16"
    assert json.loads((result.run_dir / "result.json").read_text())["test_accuracy"] == result.test_accuracy
    assert meta["test_accuracy"] == result.test_accuracy and meta["train_samples"] == 1800
    assert meta["val_samples"] == 200 and meta["best_epoch"] == result.best_epoch
    assert meta["test_samples"] == 1000
    lines = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert lines[1]["train_loss"] < lines[0]["train_loss"]
    assert max(r["val_accuracy"] for r in lines) == meta["val_accuracy"]  # the best epoch was kept
    assert (result.run_dir / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (result.run_dir / "last.pt").is_file()


def _cli(*args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # same thread count as the in-process reference run
    return subprocess.Popen([sys.executable, "-m", "edgeflow.train", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_ctrl_c_then_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    args = ["sep_res18_s3", "--data", DATA, "--epochs", "3", "--batch-size", "16", "--lr", "0.02",
            "--max-train-samples", "400", "--val-samples", "40", "--max-test-samples", "500"]
    stopped = _cli(*args, "--out", str(tmp_path / "a.pt"))
    for line in stopped.stdout:  # one line per epoch off a terminal; stop during epoch 2
        if line.startswith("epoch 1/3"):
            stopped.send_signal(signal.SIGINT)
            break
    _, err = stopped.communicate(timeout=300)
    assert stopped.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    state = torch.load(tmp_path / "a_run" / "last.pt", weights_only=True)
    assert state["progress"]["epoch"] < 3
    hint = shlex.split(err.split("Resume with: ")[1].strip().splitlines()[0])  # run exactly what it says
    assert hint[:3] == ["edgeflow", "train", "sep_res18_s3"] and hint[hint.index("--out") + 1] == str(tmp_path / "a.pt")
    resumed = _cli(*hint[2:])
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    straight = _cli(*args, "--out", str(tmp_path / "b.pt"))
    _, err = straight.communicate(timeout=300)
    assert straight.returncode == 0, err
    a = read_checkpoint(tmp_path / "a.pt", "sep_res18_s3")
    b = read_checkpoint(tmp_path / "b.pt", "sep_res18_s3")
    for key, value in b["state_dict"].items():
        assert torch.equal(a["state_dict"][key], value), key
    history = [json.loads(x) for x in (tmp_path / "a_run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history] == [1, 2, 3]


def test_resume_refuses_another_nets_state_and_keeps_the_checkpoint(tmp_path):
    out = tmp_path / "w.pt"
    train("sep_res18_s3", out, data=DATA, config=TrainConfig(epochs=1, **{**SMALL, "max_train_samples": 300,
                                                                           "val_samples": 30}),
          show_progress=False)
    before = out.read_bytes()
    with pytest.raises(EdgeflowError, match="belongs to 'sep_res18_s3', not 'cov_res18_s3'"):
        train("cov_res18_s3", out, data=DATA, run_dir=tmp_path / "w_run", resume=True, show_progress=False)
    with pytest.raises(EdgeflowError, match="trained on 'fashion-mnist-embedded', not 'mnist'"):
        train("sep_res18_s3", out, data="mnist", run_dir=tmp_path / "w_run", resume=True, show_progress=False)
    with pytest.raises(EdgeflowError, match="nothing to resume"):
        train("sep_res18_s3", out, data=DATA, run_dir=tmp_path / "elsewhere", resume=True, show_progress=False)
    assert out.read_bytes() == before


def test_dataset_that_does_not_fit_the_net(tmp_path):
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        Image.new("L", (28, 28)).save(tmp_path / "imgs" / cls / "0.png")
    with pytest.raises(EdgeflowError, match="2 classes"):
        train("sep_res18_s3", tmp_path / "w.pt", data=str(tmp_path / "imgs"), show_progress=False)
    assert not (tmp_path / "w.pt").exists()


def test_unwritable_output_fails_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(EdgeflowError, match="cannot write to .*is a file, not a folder"):
        train("sep_res18_s3", blocker / "w.pt", data=DATA, config=TrainConfig(**SMALL), show_progress=False)
    with pytest.raises(EdgeflowError, match="cannot write"):
        train("sep_res18_s3", tmp_path / "w.pt", data=DATA, config=TrainConfig(**SMALL), show_progress=False,
              run_dir=blocker / "run")
    assert not (tmp_path / "w.pt").exists() and blocker.read_text() == "not a folder"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: test_training_on_cuda runs instead")
def test_device_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    for device, message in (("cuda", "torch sees no CUDA GPU"), ("tpu", "expected cpu or cuda")):
        with pytest.raises(EdgeflowError, match=message):
            train("sep_res18_s3", tmp_path / "w.pt", data=DATA, config=TrainConfig(**SMALL), show_progress=False,
                  device=device)
    assert not (tmp_path / "w.pt").exists() and not (tmp_path / "w_run").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU and a CUDA torch (none on CI)")
def test_training_on_cuda_learns_and_writes_files_that_load_on_the_cpu(tmp_path):
    result = train("sep_res18_s3", tmp_path / "w.pt", data=DATA, config=TrainConfig(epochs=2, **SMALL),
                   show_progress=False, device="cuda")
    assert result.test_accuracy > 0.5
    stored = read_checkpoint(tmp_path / "w.pt", "sep_res18_s3")["state_dict"]
    assert {t.device.type for t in stored.values()} == {"cpu"}
    net = create_model("sep_res18_s3")
    meta = load_weights(net, tmp_path / "w.pt", "sep_res18_s3")
    assert meta["device"] == torch.cuda.get_device_name(0) and meta["test_accuracy"] == result.test_accuracy
    resumed = train("sep_res18_s3", tmp_path / "w.pt", data=DATA, config=TrainConfig(epochs=2, **SMALL),
                    show_progress=False, device="cuda", resume=True)  # a finished run resumes to the same result
    assert resumed.test_accuracy == result.test_accuracy


def test_self_distillation_trains_every_exit(tmp_path):
    result = train("sd_vgg11_lite", tmp_path / "sd.pt", data=DATA,
                   config=TrainConfig(epochs=2, **SMALL), show_progress=False)
    assert len(result.exit_accuracies) == 4
    assert min(result.exit_accuracies) > 0.3, result.exit_accuracies  # every exit learned, not only the last
    history = [json.loads(x) for x in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(history[-1]["val_exit_accuracies"]) == 4
    assert read_checkpoint(tmp_path / "sd.pt", "sd_vgg11_lite")["meta"]["test_exit_accuracies"] == \
        result.exit_accuracies


def test_teacher_distillation_uses_the_teachers_weights(tmp_path):
    torch.manual_seed(0)
    teacher = create_model("cov_res18_s3")
    save_checkpoint(tmp_path / "teacher.pt", "cov_res18_s3", teacher, {})
    cfg = TrainConfig(epochs=1, **{**SMALL, "max_train_samples": 300, "val_samples": 30},
                      teacher="cov_res18_s3", teacher_checkpoint=str(tmp_path / "teacher.pt"))
    train("sep_res18_s3", tmp_path / "s.pt", data=DATA, config=cfg, show_progress=False)
    meta = read_checkpoint(tmp_path / "s.pt", "sep_res18_s3")["meta"]
    assert meta["config"]["teacher"] == "cov_res18_s3"
    with pytest.raises(EdgeflowError, match="no checkpoint for 'vgg10'"):
        train("sep_res18_s3", tmp_path / "t.pt", data=DATA, show_progress=False,
              config=TrainConfig(**SMALL, teacher="vgg10", teacher_checkpoint=str(tmp_path / "missing.pt")))
    with pytest.raises(EdgeflowError, match="teaches itself"):
        train("sd_vgg11_lite", tmp_path / "u.pt", data=DATA, show_progress=False, config=cfg)


def test_distillation_losses():
    torch.manual_seed(0)
    logits, labels = torch.randn(8, 10), torch.randint(0, 10, (8,))
    assert distill_kl(logits, logits, 3.0).abs() < 1e-6
    assert distill_kl(logits, torch.randn(8, 10), 3.0) > 0.01
    ce = torch.nn.functional.cross_entropy(logits, labels)
    assert torch.allclose(teacher_student_loss(logits, torch.randn(8, 10), labels, alpha=0.0, temperature=3.0), ce)
    feats = [torch.randn(8, 16) for _ in range(3)]
    exits = [logits, logits, logits]
    plain = self_distill_loss(exits, feats, labels, alpha=0.0, temperature=3.0, hint_weight=0.0)
    assert torch.allclose(plain, 3 * ce)  # deep supervision only: CE on each of the 3 exits
    hinted = self_distill_loss(exits, feats, labels, alpha=0.0, temperature=3.0, hint_weight=1.0)
    expected = sum(torch.nn.functional.mse_loss(f, feats[-1]) for f in feats[:-1])
    assert torch.allclose(hinted - plain, expected)


def test_recipe_comes_from_the_card_and_flags_override_it():
    card_train = {"epochs": 8, "lr": 0.1, "val_samples": 0}
    config = recipe_from_card(card_train, {"lr": 0.02, "epochs": None})
    assert (config.epochs, config.lr, config.val_samples) == (8, 0.02, 0)
    with pytest.raises(EdgeflowError, match="unknown key.*epoch_count"):
        recipe_from_card({"epoch_count": 3})
    with pytest.raises(EdgeflowError, match="optimizer must be one of"):
        recipe_from_card({"optimizer": "lion"})
    with pytest.raises(EdgeflowError, match="max_test_samples must be >= 1"):
        recipe_from_card({}, {"max_test_samples": 0})


def test_augmentation_is_seeded_and_keeps_shapes():
    from edgeflow.training.augment import augment_batch

    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    a = augment_batch(x, "crop+flip", torch.Generator().manual_seed(1))
    b = augment_batch(x, "crop+flip", torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)
    assert augment_batch(x, "none", torch.Generator()) is x


def test_qat_fine_tune_leaves_folded_weights_on_the_int8_grid(tmp_path):
    from edgeflow.training.qat import _conv_bn_pairs
    from edgeflow.zoo.checkpoint import default_checkpoint

    cfg = TrainConfig(epochs=1, **{**SMALL, "max_train_samples": 300, "val_samples": 30, "lr": 0.001}, qat=True)
    train("sep_res18_s3", tmp_path / "q.pt", data=DATA, config=cfg, show_progress=False,
          init_checkpoint=default_checkpoint("sep_res18_s3"))
    net = create_model("sep_res18_s3")
    meta = load_weights(net, tmp_path / "q.pt", "sep_res18_s3")  # an ordinary checkpoint again
    assert meta["config"]["qat"] is True and meta["test_accuracy"] > 0.9
    pairs = [(conv, bn) for conv, bn in _conv_bn_pairs(net) if bn is not None]
    assert len(pairs) > 30
    for conv, bn in pairs:
        folded = conv.weight.detach() * (bn.weight / torch.sqrt(bn.running_var + bn.eps)).view(-1, 1, 1, 1)
        step = folded.abs().amax(dim=(1, 2, 3), keepdim=True) / 127
        levels = folded / step
        assert torch.allclose(levels, levels.round(), atol=2e-3), conv
    with pytest.raises(EdgeflowError, match="--from"):
        train("sep_res18_s3", tmp_path / "r.pt", data=DATA, config=cfg, show_progress=False)
