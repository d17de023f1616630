"""Benchmark (not a test): training cost of every registered net on this CPU, to plan the zoo's training budget.

    .venv/bin/python bench/bench_train_step.py [--threads 1] [--steps 5] [--batch 128] [--only NAME ...]

For each net: median wall time of one SGD step (forward of every exit, loss, backward, update) on a
batch of 1x28x28 images in channels_last, and the minutes one epoch of 55,000 Fashion-MNIST training
images (60,000 minus the 5,000 validation images) would take at that rate.
Writes bench/results/train_step.json and prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from edgeflow.training.evaluate import AllExits
from edgeflow.zoo.registry import create_model, list_models
from edgeflow.zoo.stats import net_stats

ROOT = Path(__file__).resolve().parent.parent
EPOCH_IMAGES = 55_000


def step_seconds(name: str, batch: int, steps: int) -> float:
    view = AllExits(create_model(name)).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(view.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))
    times = []
    for _ in range(steps + 1):  # the first step warms up the allocator and kernels
        start = time.perf_counter()
        logits, _ = view(x)
        loss = sum(F.cross_entropy(out, y) for out in logits)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--only", nargs="*", help="nets to measure [all]")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.only or list_models():
        seconds = step_seconds(name, args.batch, args.steps)
        epoch_min = seconds * math.ceil(EPOCH_IMAGES / args.batch) / 60
        rows.append({"name": name, "params": net_stats(name).params, "step_s": round(seconds, 4),
                     "epoch_min": round(epoch_min, 1)})
        print(f"{name:20s} {seconds * 1000:8.0f} ms/step {epoch_min:7.1f} min/epoch", flush=True)
    result = {"threads": args.threads, "batch": args.batch, "steps": args.steps, "machine": platform.processor()
              or platform.machine(), "torch": torch.__version__, "nets": rows}
    out = ROOT / "bench" / "results" / "train_step.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n| net | params | s/step (batch %d) | min/epoch (55k images) |\n|---|---|---|---|" % args.batch)
    for r in sorted(rows, key=lambda r: r["step_s"]):
        print(f"| {r['name']} | {r['params']:,} | {r['step_s']:.3f} | {r['epoch_min']:.1f} |")


if __name__ == "__main__":
    main()
