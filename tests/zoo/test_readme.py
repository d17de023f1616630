import re
import shutil
import subprocess
import sys

import pytest

from edgeflow.paths import models_dir
from edgeflow.zoo.readme import readme_path, render_readme, stale_readmes, write_readme
from edgeflow.zoo.registry import list_models


@pytest.mark.parametrize("name", list_models())
def test_committed_readme_is_current(name):
    """READMEs are generated: a card or net change without `edgeflow models readme` fails here."""
    path = readme_path(name)
    assert path.is_file(), f"{path} is missing: run `edgeflow models readme {name}`"
    assert path.read_text(encoding="utf-8") == render_readme(name), f"{path} is stale: run `edgeflow models readme`"


def test_readme_content():
    trained, short_run = render_readme("sep_res18_s3"), render_readme("resnet50")
    assert "282,043" in trained and "edgeflow train sep_res18_s3" in trained and "93.72 %" in trained
    assert "| params vs cov_res18_s3 | 58.33 % |" in trained
    # resnet50: the documented (GPU) command, and a different, measured one-epoch CPU run
    assert "No weights are committed: its float16 checkpoint" in short_run
    assert "edgeflow train resnet50 --data fashion-mnist --device cuda" in short_run
    assert "A run of `edgeflow train resnet50 --data fashion-mnist --epochs 1 " in short_run
    assert "(1 epoch; 55.7 min wall;" in short_run and "| 86.10 % (TFLite int8: 85.50 %), weights not" in short_run
    left_out = render_readme("googlenet")  # trained once on a GPU, its weights over the size limit
    assert "| 94.25 % (TFLite int8: 94.22 %), weights not committed (see Training) |" in left_out
    assert "An earlier run of it (11 epochs; best epoch 9; 6.5 min wall;" in left_out
    assert "| params | 4.08 M | 4.08 M | +0.00 M | as the paper |" in render_readme("cresnet50")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A copy of the cards and READMEs of sep_res18_s3 and its baselines under EDGEFLOW_HOME."""
    for name in ("sep_res18_s3", "cov_res18_s3", "vgg10"):
        dst = tmp_path / "models" / name
        dst.mkdir(parents=True)
        for f in ("card.toml", "README.md"):
            shutil.copy(models_dir() / name / f, dst / f)
    monkeypatch.setenv("EDGEFLOW_HOME", str(tmp_path))
    return tmp_path


def test_check_names_stale_readmes_and_write_fixes_them(home):
    path = readme_path("sep_res18_s3")
    assert path.is_relative_to(home)
    path.write_text("hand-edited\n")
    r = subprocess.run([sys.executable, "-m", "edgeflow.cli.main", "models", "readme", "sep_res18_s3", "--check"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 1 and "stale: models/sep_res18_s3/README.md" in r.stdout
    assert path.read_text() == "hand-edited\n"  # --check writes nothing
    assert stale_readmes(["sep_res18_s3", "vgg10"]) == ["sep_res18_s3"]
    assert write_readme("sep_res18_s3") and not write_readme("sep_res18_s3")
    assert stale_readmes(["sep_res18_s3"]) == [] and not list(path.parent.glob(".*.tmp"))


def test_a_card_without_weights_or_a_record_says_not_trained_yet(home):
    """A net a user registers starts here: no weights.pt, no [trained], no [not_committed]."""
    card = home / "models" / "vgg10" / "card.toml"  # the copy under EDGEFLOW_HOME has no weights.pt
    text = re.sub(r"(?ms)^\[trained\].*?(?=^\[)", "", card.read_text(encoding="utf-8"))
    card.write_text("".join(ln for ln in text.splitlines(True) if "accuracy_pct" not in ln), encoding="utf-8")
    text = render_readme("vgg10")
    assert "| not trained yet |" in text and "Not trained yet. `edgeflow train` uses the recipe" in text
