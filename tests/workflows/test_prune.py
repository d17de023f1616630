"""``edgeflow prune``: a pruned net written to a file that rebuilds, and its errors."""

import subprocess
import sys

import pytest
import torch

from edgeflow.errors import EdgeflowError
from edgeflow.workflows.prune import load_pruned, prune_to_file


def test_prune_command_writes_a_file_that_rebuilds(tmp_path):
    out = tmp_path / "resnet50_pruned.pt"
    meta = prune_to_file("resnet50", out, ratio=0.5, criterion="l1", random_init=True)
    model, saved = load_pruned(out)
    assert saved == meta and meta["params_after"] == sum(p.numel() for p in model.parameters())
    assert meta["params_after"] < 0.5 * meta["params_before"]
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    with pytest.raises(EdgeflowError, match="--force"):
        prune_to_file("resnet50", out, ratio=0.5, criterion="l1", random_init=True)
    r = subprocess.run([sys.executable, "-m", "edgeflow.cli.main", "prune", "sep_res18_s3", "--ratio", "0.5",
                        "--random-init", "--out", str(tmp_path / "x.pt")], capture_output=True, text=True, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot prune sep_res18_s3" in r.stderr
    assert not (tmp_path / "x.pt").exists()
