import pytest

from edgeflow.checkpoint import load_weights
from edgeflow.errors import EdgeflowError
from edgeflow.registry import create_model
from edgeflow.train import TrainConfig, train


def test_short_training_run_learns_and_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "w.pt"
    result = train("sep_res18_s3", out, data="fashion-mnist-embedded",
                   config=TrainConfig(epochs=2, batch_size=64, lr=0.05, max_train_samples=2000),
                   show_progress=False)
    assert result.test_accuracy > 0.5  # 2,000 real images, 2 epochs: far above the 10 % of chance
    meta = load_weights(create_model("sep_res18_s3"), out, "sep_res18_s3")
    assert meta["test_accuracy"] == result.test_accuracy and meta["train_samples"] == 2000


def test_dataset_that_does_not_fit_the_net(tmp_path):
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        Image.new("L", (28, 28)).save(tmp_path / "imgs" / cls / "0.png")
    with pytest.raises(EdgeflowError, match="2 classes"):
        train("sep_res18_s3", tmp_path / "w.pt", data=str(tmp_path / "imgs"), show_progress=False)
    assert not (tmp_path / "w.pt").exists()
