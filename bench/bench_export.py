"""Benchmark (not a test): latency ratios between runtimes, achieved GFLOP/s, and export wall time.

    .venv/bin/python bench/bench_export.py [--threads 1] [--iters 500] [--rounds 3]

Everything is measured in one run on one machine. Each runtime is timed in its own fresh process
(edgeflow.check.latency), ``rounds`` times interleaved; the reported latency is the median of the per-round p50s.
Writes bench/results/export_bench.json and prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgeflow.check.latency import BenchSpec, benchmark
from edgeflow.export.manifest import tool_versions
from edgeflow.zoo.stats import net_stats

NAME = "sep_res18_s3"
ROOT = Path(__file__).resolve().parent.parent


def matmul_peak_gflops(threads: int, n: int = 1024, reps: int = 20) -> float:
    """This machine's fp32 GEMM rate (torch, ``threads`` threads): the roof the runtimes are held against."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def cpu_description() -> dict:
    """Model name and the SIMD flags that decide int8 vs fp32 kernel speed (VNNI above all)."""
    info = {"model": platform.machine(), "simd": []}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.splitlines():
        if line.startswith("model name") and info["model"] == platform.machine():
            info["model"] = line.split(":", 1)[1].strip()
        if line.startswith("flags"):
            info["simd"] = sorted(f for f in line.split(":", 1)[1].split() if "avx" in f or "vnni" in f or f == "fma")
            break
    return info


def timed_export(out: Path) -> float:
    """Wall time of the whole user command, parity on the 10k test images included."""
    t0 = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "edgeflow"), "export", NAME, "--int8", "--force",
                    "--out", str(out), "--no-bench"], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / NAME
        export_s = [timed_export(out) for _ in range(args.rounds)]
        import torch

        from edgeflow.zoo.checkpoint import default_checkpoint

        weights = Path(tmp) / "weights.pt"
        torch.save(torch.load(default_checkpoint(NAME), weights_only=True)["state_dict"], weights)
        specs = {"pytorch fp32": BenchSpec("pytorch", "fp32", weights, net=NAME),
                 "onnxruntime fp32": BenchSpec("onnxruntime", "fp32", out / "model.onnx"),
                 "tflite fp32": BenchSpec("tflite", "fp32", out / "model_fp32.tflite"),
                 "tflite int8": BenchSpec("tflite", "int8", out / "model_int8.tflite")}
        p50s: dict[str, list[float]] = {k: [] for k in specs}
        for _ in range(args.rounds):
            for key, spec in specs.items():
                p50s[key].append(benchmark(spec, threads=args.threads, iters=args.iters).p50_ms)
    p50 = {k: statistics.median(v) for k, v in p50s.items()}
    flops = net_stats(NAME).flops
    peak = matmul_peak_gflops(args.threads)
    result = {
        "model": NAME, "threads": args.threads, "iters": args.iters, "rounds": args.rounds,
        "machine": {"cpu": cpu_description(), "cores": os.cpu_count(), "python": platform.python_version()},
        "tools": tool_versions(),
        "p50_ms": p50, "p50_ms_per_round": p50s,
        "ratios": {"tflite_int8 / pytorch": p50["tflite int8"] / p50["pytorch fp32"],
                   "tflite_int8 / tflite_fp32": p50["tflite int8"] / p50["tflite fp32"],
                   "tflite_fp32 / onnxruntime_fp32": p50["tflite fp32"] / p50["onnxruntime fp32"]},
        "gflops_per_s": {k: flops / (v * 1e-3) / 1e9 for k, v in p50.items()},
        "matmul_peak_gflops": peak,
        "export_wall_s": {"median": statistics.median(export_s), "runs": export_s},
    }
    dst = ROOT / "bench" / "results" / "export_bench.json"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(result, indent=2) + "\n")
    print(f"| runtime | p50 ms | GFLOP/s | % of fp32 matmul peak ({peak:.0f} GFLOP/s) |\n|---|---|---|---|")
    for k, v in p50.items():
        g = result["gflops_per_s"][k]
        print(f"| {k} | {v:.3f} | {g:.1f} | {100 * g / peak:.1f} % |")
    print("\n| ratio | measured |\n|---|---|")
    for k, v in result["ratios"].items():
        print(f"| {k} | {v:.3f} |")
    print(f"| export wall time (s), median of {args.rounds} | {np.median(export_s):.1f} |")


if __name__ == "__main__":
    main()
