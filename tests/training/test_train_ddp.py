"""Multi-process training through torchrun: 2 CPU processes (gloo) on loopback."""

import json
import os
import subprocess
import sys

from edgeflow.training.distributed import weights_digest
from edgeflow.zoo.checkpoint import load_weights
from edgeflow.zoo.registry import create_model


def test_two_processes_train_different_shards_and_end_with_identical_weights(tmp_path):
    out = tmp_path / "w.pt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "edgeflow.train", "sep_res18_s3", "--data", "fashion-mnist-embedded", "--epochs", "1",
           "--max-train-samples", "288", "--val-samples", "32", "--batch-size", "32", "--max-test-samples", "500",
           "--out", str(out), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "w_run" / "result.json").read_text())
    ranks = sorted(result["replicas"], key=lambda r: r["rank"])
    assert [r["rank"] for r in ranks] == [0, 1]
    assert ranks[0]["shard_samples"] == ranks[1]["shard_samples"] == 128  # 256 training images split in two
    assert ranks[0]["shard_sha256"] != ranks[1]["shard_sha256"]
    assert not set(ranks[0]["shard_head"]) & set(ranks[1]["shard_head"])
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"]  # DDP kept the replicas in step
    net = create_model("sep_res18_s3")
    meta = load_weights(net, out, "sep_res18_s3")
    assert weights_digest(net) == ranks[0]["weights_sha256"] and meta["world_size"] == 2
    assert proc.stdout.count("test top-1") == 1  # only rank 0 reports
