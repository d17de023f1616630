#!/usr/bin/env python3
"""Standalone TFLite benchmark + inference script for edge devices.

Needs only the Python standard library, numpy and one TFLite interpreter (ai_edge_litert, tflite_runtime
or tensorflow). It does not import edgeflow or torch, so it can be copied to a board by hand:

    python3 ondevice_bench.py --model model_int8.tflite --threads 4 --iters 200 \
        [--inputs inputs.npy --outputs logits.npy]

``inputs.npy`` holds preprocessed NCHW float32 images (as the PyTorch net sees them); the script converts
them to the model's NHWC layout and int8 quantization, and writes float32 logits. One JSON object with
latency percentiles (ms), peak RSS (MB) and what ran is printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time

import numpy as np

INTERPRETERS = ("ai_edge_litert", "tflite_runtime", "tensorflow")


def load_interpreter_class(preferred: str = "auto"):
    """Return (Interpreter class, module name, version) for the first importable interpreter."""
    names = INTERPRETERS if preferred == "auto" else (preferred,)
    for name in names:
        try:
            if name == "ai_edge_litert":
                from ai_edge_litert.interpreter import Interpreter
                from importlib.metadata import version
                return Interpreter, name, version("ai-edge-litert")
            if name == "tflite_runtime":
                import tflite_runtime
                from tflite_runtime.interpreter import Interpreter
                return Interpreter, name, tflite_runtime.__version__
            if name == "tensorflow":
                import tensorflow as tf
                return tf.lite.Interpreter, name, tf.__version__
        except ImportError:
            continue
    raise SystemExit(f"no TFLite interpreter found (tried {', '.join(names)}); "
                     "install one, e.g. `pip install ai-edge-litert`")


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """Float → integer tensor with the model's scale/zero-point, saturating."""
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (q.astype(np.float32) - zero_point) * np.float32(scale)


def to_model_input(x_nchw: np.ndarray, detail: dict) -> np.ndarray:
    """NCHW float samples → the model's NHWC input tensor (quantized when the model wants integers)."""
    x = np.ascontiguousarray(np.asarray(x_nchw, np.float32).transpose(0, 2, 3, 1))
    if detail["dtype"] != np.float32:
        return quantize(x, *detail["quantization"], detail["dtype"])
    return x


def from_model_output(y: np.ndarray, detail: dict) -> np.ndarray:
    """The model's output tensor → float32 logits (batch, classes)."""
    if detail["dtype"] != np.float32:
        y = dequantize(y, *detail["quantization"])
    return np.asarray(y, np.float32).reshape(len(y), -1)


def time_loop(fn, warmup: int, iters: int) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed, then ``iters`` times timed; returns milliseconds per call."""
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        fn()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def percentiles(times_ms: list[float]) -> dict:
    t = np.asarray(times_ms)
    return {"p50_ms": float(np.percentile(t, 50)), "p90_ms": float(np.percentile(t, 90)),
            "p99_ms": float(np.percentile(t, 99)), "mean_ms": float(t.mean()), "std_ms": float(t.std()),
            "iters": len(times_ms), "samples_ms": [round(float(v), 5) for v in t]}  # the distribution, for reports


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    On Linux/Android VmHWM is read from /proc: getrusage's ru_maxrss survives exec, so a process started
    from a big parent would report the parent's peak instead of its own.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB elsewhere


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help=".tflite file")
    ap.add_argument("--probe", action="store_true", help="only print what runs here (interpreter, arch) and exit")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--iters", type=int, default=200, help="timed single-sample inferences")
    ap.add_argument("--inputs", help="NCHW float32 .npy to run (after the timing)")
    ap.add_argument("--outputs", help="where to save the float32 logits of --inputs (.npy)")
    ap.add_argument("--interpreter", default="auto", choices=("auto",) + INTERPRETERS)
    args = ap.parse_args(argv)

    Interpreter, interp_name, interp_version = load_interpreter_class(args.interpreter)
    host = {"interpreter": interp_name, "interpreter_version": interp_version, "numpy": np.__version__,
            "python": platform.python_version(), "arch": platform.machine(),
            "os": f"{platform.system()} {platform.release()}"}
    if args.probe:
        print(json.dumps(host))
        return 0
    if not args.model:
        ap.error("--model is required")
    interpreter = Interpreter(model_path=args.model, num_threads=args.threads)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = np.zeros(inp["shape"], dtype=inp["dtype"])
    if args.inputs:
        x = to_model_input(np.load(args.inputs)[:1], inp)

    def run_once() -> None:
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        interpreter.get_tensor(out["index"])

    times = time_loop(run_once, args.warmup, args.iters)
    if args.inputs and args.outputs:
        data = np.load(args.inputs)
        logits = []
        for i in range(len(data)):
            interpreter.set_tensor(inp["index"], to_model_input(data[i:i + 1], inp))
            interpreter.invoke()
            logits.append(from_model_output(interpreter.get_tensor(out["index"]), out))
        np.save(args.outputs, np.concatenate(logits))
    record = {
        "latency": percentiles(times), "peak_rss_mb": peak_rss_mb(), "threads": args.threads,
        "model_bytes": os.path.getsize(args.model), **host,
        "input": {"shape": [int(v) for v in inp["shape"]], "dtype": np.dtype(inp["dtype"]).name,
                  "quantization": [float(inp["quantization"][0]), int(inp["quantization"][1])]},
        "output": {"shape": [int(v) for v in out["shape"]], "dtype": np.dtype(out["dtype"]).name,
                   "quantization": [float(out["quantization"][0]), int(out["quantization"][1])]},
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
