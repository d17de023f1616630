import pytest
import torch

from edgeflow.errors import EdgeflowError
from edgeflow.zoo.checkpoint import load_weights, round_to_half, save_checkpoint
from edgeflow.zoo.registry import create_model


def test_roundtrip(tmp_path):
    model = create_model("sep_res18_s3")
    save_checkpoint(tmp_path / "w.pt", "sep_res18_s3", model, {"test_accuracy": 0.5})
    other = create_model("sep_res18_s3")
    meta = load_weights(other, tmp_path / "w.pt", "sep_res18_s3")
    assert meta["test_accuracy"] == 0.5
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.tmp"))


def test_half_checkpoint_reloads_exactly_the_rounded_weights(tmp_path):
    model = create_model("sep_res18_s3")
    save_checkpoint(tmp_path / "w.pt", "sep_res18_s3", model, {}, half=True)
    full = tmp_path / "full.pt"
    save_checkpoint(full, "sep_res18_s3", model, {})
    assert (tmp_path / "w.pt").stat().st_size < 0.6 * full.stat().st_size
    reloaded = create_model("sep_res18_s3")
    assert load_weights(reloaded, tmp_path / "w.pt", "sep_res18_s3")["weights_dtype"] == "float16"
    round_to_half(model)
    for a, b in zip(model.state_dict().values(), reloaded.state_dict().values()):
        assert a.dtype == b.dtype and torch.equal(a, b)


def test_half_checkpoint_keeps_what_float16_cannot_hold_in_float32(tmp_path):
    model = create_model("sep_res18_s3")
    name, bn = next((n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d))
    bn.running_var.fill_(6.4e8)  # past float16's 65504: would reload as inf and wreck every output
    save_checkpoint(tmp_path / "w.pt", "sep_res18_s3", model, {}, half=True)
    stored = torch.load(tmp_path / "w.pt", weights_only=True)["state_dict"]
    assert {t.dtype for k, t in stored.items() if "running_var" in k} == {torch.float16, torch.float32}
    reloaded = create_model("sep_res18_s3")
    load_weights(reloaded, tmp_path / "w.pt", "sep_res18_s3")
    round_to_half(model)  # what training evaluates must match what reloads
    for a, b in zip(model.state_dict().values(), reloaded.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(dict(reloaded.named_buffers())[f"{name}.running_var"], bn.running_var)


def test_missing_checkpoint_says_how_to_train(tmp_path):
    with pytest.raises(EdgeflowError, match="edgeflow train sep_res18_s3.*--random-init"):
        load_weights(create_model("sep_res18_s3"), tmp_path / "none.pt", "sep_res18_s3")


def test_corrupt_checkpoint(tmp_path):
    (tmp_path / "w.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(EdgeflowError, match="corrupt"):
        load_weights(create_model("sep_res18_s3"), tmp_path / "w.pt", "sep_res18_s3")


def test_checkpoint_of_another_net(tmp_path):
    save_checkpoint(tmp_path / "w.pt", "vgg10", create_model("vgg10"), {})
    with pytest.raises(EdgeflowError, match="belongs to 'vgg10'"):
        load_weights(create_model("sep_res18_s3"), tmp_path / "w.pt", "sep_res18_s3")
