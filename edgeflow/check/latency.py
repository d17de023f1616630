"""Latency and memory: each runtime is timed in a fresh process of its own, so that its peak RSS is its
own and not the sum of everything the host process loaded.

TFLite is timed by the standalone on-device script (the same code that runs on a board); PyTorch and ONNX
Runtime by this module's worker (``python -m edgeflow.check.latency``), with the same loop and statistics.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeflow.devices import ondevice_bench
from edgeflow.errors import EdgeflowError


@dataclass(frozen=True)
class BenchRecord:
    runtime: str
    precision: str
    threads: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    std_ms: float
    iters: int
    peak_rss_mb: float
    model_bytes: int
    exit: int | None = None  # pytorch, self-distillation nets: the exit that was timed
    samples_ms: tuple[float, ...] = ()  # every timed run, in order (the report draws their distribution)
    fingerprint: dict = field(default_factory=dict, compare=False)  # the machine and runtime that timed it

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BenchSpec:
    """What to time: ``runtime`` is pytorch | onnxruntime | tflite; ``model`` the file to load."""

    runtime: str
    precision: str
    model: Path
    net: str = ""  # registered name, for pytorch (``model`` is then a state_dict file)
    exit: int | None = None  # pytorch: the self-distillation exit the exported model deploys
    card: Any = None  # pytorch, a user's own net: its input contract (a zoo.cards.ModelCard)


def _worker_command(spec: BenchSpec, threads: int, warmup: int, iters: int) -> list[str]:
    common = ["--threads", str(threads), "--warmup", str(warmup), "--iters", str(iters)]
    if spec.runtime == "tflite":
        return [sys.executable, ondevice_bench.__file__, "--model", str(spec.model), *common]
    exit_args = ["--exit", str(spec.exit)] if spec.exit is not None else []
    if spec.card is not None:  # a user's net is rebuilt from its source and contract, written beside the weights
        contract = spec.model.with_suffix(".card.json")
        contract.write_text(json.dumps(asdict(spec.card)))
        exit_args += ["--card", str(contract)]
    return [sys.executable, "-m", "edgeflow.check.latency", spec.runtime, str(spec.model), "--net", spec.net,
            *exit_args, *common]


def benchmark(spec: BenchSpec, *, threads: int = 1, warmup: int = 20, iters: int = 200,
              model_bytes: int | None = None) -> BenchRecord:
    """Time ``iters`` single-sample inferences after ``warmup`` in a fresh process; report percentiles."""
    cmd = _worker_command(spec, threads, warmup, iters)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise EdgeflowError(f"benchmark of {spec.runtime} {spec.precision} failed: "
                            f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    lat = rec["latency"]
    return BenchRecord(spec.runtime, spec.precision, threads, lat["p50_ms"], lat["p90_ms"], lat["p99_ms"],
                       lat["mean_ms"], lat["std_ms"], lat["iters"], rec["peak_rss_mb"],
                       model_bytes if model_bytes is not None else spec.model.stat().st_size, rec.get("exit"),
                       tuple(lat.get("samples_ms", ())), rec.get("fingerprint", {}))


def _worker_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="time one runtime (used by edgeflow; not a user command)")
    ap.add_argument("runtime", choices=("pytorch", "onnxruntime"))
    ap.add_argument("model", type=Path)
    ap.add_argument("--net", default="")
    ap.add_argument("--exit", type=int, default=None)
    ap.add_argument("--card", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--iters", type=int, default=200)
    a = ap.parse_args(argv)
    if a.runtime == "pytorch":
        import torch

        from edgeflow.zoo.cards import ModelCard, get_card
        from edgeflow.zoo.loading import build_model, load_model, select_exit

        torch.set_num_threads(a.threads)
        card = ModelCard(**json.loads(a.card.read_text())) if a.card else get_card(a.net)
        model = load_model(a.net, random_init=True, card=card).model if a.card else build_model(a.net)
        model.load_state_dict(torch.load(a.model, map_location="cpu", weights_only=True))
        if a.exit is not None:
            select_exit(model, a.net, a.exit)
        model.eval()
        deployed = {"exit": getattr(model, "exit", None),  # what was timed, for the record
                    "fingerprint": ondevice_bench.fingerprint("pytorch", torch.__version__)}
        x = torch.zeros(card.input_shape)
        with torch.inference_mode():
            times = ondevice_bench.time_loop(lambda: model(x), a.warmup, a.iters)
    else:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = a.threads, 1
        sess = ort.InferenceSession(str(a.model), opts, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in inp.shape]  # a free batch axis is timed at 1
        feed = {inp.name: np.zeros(shape, np.float32)}
        times = ondevice_bench.time_loop(lambda: sess.run(None, feed), a.warmup, a.iters)
        deployed = {"fingerprint": ondevice_bench.fingerprint("onnxruntime", ort.__version__)}
    print(json.dumps({"latency": ondevice_bench.percentiles(times), "peak_rss_mb": ondevice_bench.peak_rss_mb(),
                      **deployed}))
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main())
