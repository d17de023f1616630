"""The one way to get a net: built from its card, weights or seeded init, exit selected, provenance."""

import pytest
import torch

from edgeflow.errors import EdgeflowError
from edgeflow.files import file_sha256
from edgeflow.zoo.checkpoint import default_checkpoint, save_checkpoint
from edgeflow.zoo.loading import build_model, load_model


def test_committed_weights_with_provenance():
    loaded = load_model("sep_res18_s3")
    assert not loaded.model.training and loaded.card.name == "sep_res18_s3"
    assert loaded.source["sha256"] == file_sha256(default_checkpoint("sep_res18_s3"))
    assert loaded.source["checkpoint"] == "weights.pt" and loaded.source["random_init"] is False
    x = torch.zeros(loaded.card.input_shape)
    assert loaded.model(x).shape == (1, len(loaded.card.classes))


def test_random_init_is_seeded_and_says_so():
    a, b = load_model("vgg10", random_init=True), load_model("vgg10", random_init=True)
    assert a.source == {"checkpoint": None, "random_init": True, "seed": 0}
    for (k, v), w in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(v, w), k


def test_another_checkpoint_and_its_hash(tmp_path):
    net = build_model("sep_res18_s3")
    save_checkpoint(tmp_path / "w.pt", "sep_res18_s3", net, {"dataset": "x"})
    loaded = load_model("sep_res18_s3", checkpoint=tmp_path / "w.pt")
    assert loaded.source["sha256"] == file_sha256(tmp_path / "w.pt") and loaded.source["trained_on"] == "x"


def test_exit_is_selected_and_recorded():
    loaded = load_model("sd_resnet18_lite", random_init=True, exit=2)
    assert loaded.model.exit == 2 and loaded.source["exit"] == 2
    with pytest.raises(EdgeflowError, match="single classifier"):
        load_model("sep_res18_s3", random_init=True, exit=1)


def test_build_model_follows_the_card():
    from edgeflow.zoo.cards import get_card

    card = get_card("cresnet50")
    net = build_model("cresnet50")
    assert net(torch.zeros(card.input_shape)).shape == (1, len(card.classes))
