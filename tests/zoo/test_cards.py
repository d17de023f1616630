import pytest

from edgeflow.errors import EdgeflowError
from edgeflow.zoo.cards import get_card
from edgeflow.zoo.checkpoint import default_checkpoint, read_checkpoint
from edgeflow.zoo.registry import list_models

TRAINED = [n for n in list_models() if default_checkpoint(n).is_file()]


def test_sep_res18_s3_checkpoint_is_committed_and_meets_target():
    assert "sep_res18_s3" in TRAINED
    meta = read_checkpoint(default_checkpoint("sep_res18_s3"), "sep_res18_s3")["meta"]
    assert meta["dataset"] == "fashion-mnist" and meta["train_samples"] == 60000
    assert meta["test_accuracy"] >= 0.91 and meta["test_samples"] == 10000


@pytest.mark.parametrize("name", TRAINED)
def test_card_accuracy_is_the_checkpoints(name):
    meta = read_checkpoint(default_checkpoint(name), name)["meta"]
    card = get_card(name)
    assert card.measured["test_accuracy_pct"] == pytest.approx(100 * meta["test_accuracy"], abs=0.005)
    assert meta["test_accuracy"] >= 0.90 and meta["test_samples"] == 10000  # the target for committed nets
    assert card.trained["epochs"] == meta["epochs"] and card.trained["command"].startswith(f"edgeflow train {name}")


def test_every_net_has_a_card_with_tolerances():
    for name in list_models():
        card = get_card(name)
        assert card.tolerances["fp32_max_abs_diff"] <= 1e-4 and card.tolerances["fp32_max_rel_diff"] <= 1e-6
        assert card.in_chans in (1, 3)


def test_broken_card_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "models" / "vgg10").mkdir(parents=True)
    (tmp_path / "models" / "vgg10" / "card.toml").write_text("family = 'x'\n[input\n")
    monkeypatch.setenv("EDGEFLOW_HOME", str(tmp_path))
    with pytest.raises(EdgeflowError, match="not valid TOML"):
        get_card("vgg10")


@pytest.mark.parametrize("name", list_models())
def test_every_card_has_a_valid_training_recipe(name):
    from edgeflow.training.recipe import recipe_from_card

    card = get_card(name)
    config = recipe_from_card(card.train)
    assert card.train, f"{name} has no [train] recipe"
    assert config.epochs >= 1 and config.lr > 0


@pytest.mark.parametrize("name", list_models())
def test_a_net_without_committed_weights_says_why_and_how_to_make_them(name):
    card = get_card(name)
    if default_checkpoint(name).is_file():
        assert not card.not_committed, f"{name} has weights.pt: drop its [not_committed] section"
        return
    assert card.not_committed.get("reason"), f"{name} has no weights.pt and no [not_committed] reason"
    assert card.not_committed["command"].startswith(f"edgeflow train {name} ")
    if "test_accuracy_pct" in card.not_committed:  # an uncommitted run was measured: say how
        assert {"epochs", "wall_min", "trained_on"} <= set(card.not_committed)
        assert card.not_committed.get("run_command", f"edgeflow train {name} ").startswith(f"edgeflow train {name} ")
