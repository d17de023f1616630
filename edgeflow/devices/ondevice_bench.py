#!/usr/bin/env python3
"""Standalone TFLite benchmark + inference script for edge devices.

Needs only the Python standard library, numpy and one TFLite interpreter (ai_edge_litert, tflite_runtime
or tensorflow). It does not import edgeflow or torch, so it can be copied to a board by hand:

    python3 ondevice_bench.py --model model_int8.tflite --threads 4 --iters 200 \
        [--inputs inputs.npy --outputs logits.npy] [--profile-ops ops.tar]

``inputs.npy`` holds preprocessed NCHW float32 images; the script converts them to the model's NHWC layout
and quantization, and writes float32 logits. It prints one JSON object: latency percentiles (ms), peak RSS
(MB) and ``fingerprint`` (CPU, the ISA features that decide int8 speed, cores, governor, temperature,
XNNPACK). ``--profile-ops`` (single-op models cut on the host, ``edgeflow.devices.op_cut``) also times
every op alone, in this one process, and adds ``profile``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tarfile
import tempfile
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
    """Peak resident memory of this process in MB: VmHWM on Linux/Android, because getrusage's ru_maxrss
    survives exec and would report a big parent's peak instead of this process's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB elsewhere


# ISA features that decide int8 speed (as /proc/cpuinfo spells them). x86: VNNI dot products (AVX-512 or
# AVX), AMX tiles; ARM: dot product (asimddp), int8 matrix multiply (i8mm), SVE.
INT8_FLAGS = {"x86": ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "amx_tile"),
              "arm": ("asimd", "asimddp", "i8mm", "sve", "sve2", "asimdhp")}
ARM_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
             "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
             "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd40": "Neoverse-V1", "0xd41": "Cortex-A78",
             "0xd44": "Cortex-X1", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710", "0xd48": "Cortex-X2",
             "0xd49": "Neoverse-N2", "0xd4d": "Cortex-A715", "0xd4e": "Cortex-X3", "0xd4f": "Neoverse-V2",
             "0xd80": "Cortex-A520", "0xd81": "Cortex-A720", "0xd82": "Cortex-X4"}


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def fingerprint(runtime: str, runtime_version: str) -> dict:
    """Where this runs, from what the OS shows (stdlib only): CPU model, the int8-relevant ISA features,
    cores, frequency governor and temperature (None where not readable), and the runtime."""
    info: dict[str, list[str]] = {}
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip().lower(), []).append(value.strip())
    arch = platform.machine().lower()
    family = "arm" if arch.startswith(("arm", "aarch")) else "x86" if arch in ("x86_64", "amd64", "i686") else ""
    flags = set(" ".join(info.get("flags", []) + info.get("features", [])).split())
    if family == "arm":
        parts = list(dict.fromkeys(ARM_PARTS.get(p.lower(), f"part {p}") for p in info.get("cpu part", [])))
        board = (info.get("model") or info.get("hardware") or [""])[0]
        cpu = " + ".join(parts) + (f" ({board})" if board else "")
    else:
        cpu = (info.get("model name") or [platform.processor()])[0]
    temp = _read("/sys/class/thermal/thermal_zone0/temp")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()  # not on macOS
    wanted = INT8_FLAGS.get(family, ())
    return {"cpu": cpu or None, "arch": arch, "isa": {f: f in flags for f in wanted} if flags else {},
            "cores": os.cpu_count(), "usable_cores": usable,
            "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            "temperature_c": round(int(temp) / 1000, 1) if temp and temp.lstrip("-").isdigit() else None,
            "runtime": runtime, "runtime_version": runtime_version, "numpy": np.__version__,
            "python": platform.python_version()}


def delegation(interpreter) -> dict:
    """Which ops a delegate took over, read from the interpreter's graph after ``allocate_tensors``.

    A delegate appends one DELEGATE node per partition, whose inputs/outputs are the partition's boundary;
    walking back from its outputs to its inputs finds the ops it replaced. This script passes no delegate,
    so a DELEGATE node here is the interpreter's default one: XNNPACK in LiteRT/TFLite.
    """
    try:
        ops = interpreter._get_ops_details()  # experimental, but in all three interpreters; nothing public says it
    except AttributeError:  # an old interpreter: unknown rather than a guess
        return {"xnnpack": None}
    original = [o for o in ops if o["op_name"] != "DELEGATE"]
    producer = {int(t): o["index"] for o in original for t in o["outputs"]}
    taken: set[int] = set()
    for node in (o for o in ops if o["op_name"] == "DELEGATE"):
        boundary = {int(t) for t in node["inputs"]}
        todo = [int(t) for t in node["outputs"]]
        while todo:
            i = producer.get(todo.pop())
            if i is None or i in taken:
                continue
            taken.add(i)
            todo += [int(t) for t in ops[i]["inputs"] if int(t) >= 0 and int(t) not in boundary]
    return {"xnnpack": bool(taken), "ops": len(original), "delegated_ops": len(taken),
            "partitions": len(ops) - len(original), "not_delegated": sorted(set(range(len(original))) - taken)}


def _random_inputs(interpreter, rng) -> None:
    """Fill every input: floats ~N(0,1), 8/16-bit integers uniform over their range, other integers 0
    (they are indices or shapes, where a random value could be out of range)."""
    for d in interpreter.get_input_details():
        dt, shape = np.dtype(d["dtype"]), d["shape"]
        if dt.kind == "f":
            x = rng.standard_normal(shape).astype(dt)
        elif dt.kind in "iu" and dt.itemsize <= 2:
            x = rng.integers(np.iinfo(dt).min, np.iinfo(dt).max, size=shape, endpoint=True).astype(dt)
        else:
            x = np.zeros(shape, dt)
        interpreter.set_tensor(d["index"], x)


def time_invoke(interpreter, warmup: int, iters: int) -> list[float]:
    """Milliseconds per ``invoke()`` alone (inputs set once before): whole model and single ops alike."""
    _random_inputs(interpreter, np.random.default_rng(0))
    return time_loop(interpreter.invoke, warmup, iters)


def _tensors(details: list[dict], quantization: bool = False) -> list[dict]:
    return [{"shape": [int(v) for v in d["shape"]], "dtype": np.dtype(d["dtype"]).name,
             **({"quantization": [float(d["quantization"][0]), int(d["quantization"][1])]} if quantization else {})}
            for d in details]


def profile_ops(Interpreter, model: str, ops_tar: str, threads: int, warmup: int, iters: int) -> dict:
    """Time the whole model, then every single-op model in ``ops_tar``, in this one process.

    An op whose model fails to load or run is reported with its error instead of a time.
    """
    whole = Interpreter(model_path=model, num_threads=threads)
    whole.allocate_tensors()
    result = {"whole": {"median_us": float(np.median(time_invoke(whole, warmup, iters))) * 1e3,
                        **delegation(whole)}, "ops": [], "iters": iters, "threads": threads}
    del whole
    with tempfile.TemporaryDirectory() as folder, tarfile.open(ops_tar) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile() and m.name.endswith(".tflite"))
        for k, name in enumerate(names):  # each member to a name of ours: nothing lands outside ``folder``
            path = os.path.join(folder, f"{k}.tflite")
            with open(path, "wb") as f:
                f.write(tar.extractfile(name).read())
            entry: dict = {"file": name}
            try:
                interp = Interpreter(model_path=path, num_threads=threads)
                interp.allocate_tensors()
                entry.update(delegated=delegation(interp)["xnnpack"],
                             inputs=_tensors(interp.get_input_details()),
                             outputs=_tensors(interp.get_output_details()))
                entry["median_us"] = float(np.median(time_invoke(interp, warmup, iters))) * 1e3
            except Exception as e:  # noqa: BLE001 - one op that cannot run must not lose the others' times
                entry["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            result["ops"].append(entry)
    return result


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
    ap.add_argument("--profile-ops", help="tar of single-op models cut from --model: time each op alone too")
    args = ap.parse_args(argv)

    Interpreter, interp_name, interp_version = load_interpreter_class(args.interpreter)
    host = {"interpreter": interp_name, "interpreter_version": interp_version, "numpy": np.__version__,
            "python": platform.python_version(), "arch": platform.machine(),
            "os": f"{platform.system()} {platform.release()}",
            "fingerprint": fingerprint(interp_name, interp_version)}
    if args.probe:
        print(json.dumps(host))
        return 0
    if not args.model:
        ap.error("--model is required")
    interpreter = Interpreter(model_path=args.model, num_threads=args.threads)
    interpreter.allocate_tensors()
    delegated = delegation(interpreter)
    host["fingerprint"]["xnnpack"] = delegated["xnnpack"]
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = to_model_input(np.load(args.inputs)[:1], inp) if args.inputs else np.zeros(inp["shape"], inp["dtype"])

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
    profile = profile_ops(Interpreter, args.model, args.profile_ops, args.threads, args.warmup,
                          args.iters) if args.profile_ops else None
    record = {
        "latency": percentiles(times), "peak_rss_mb": peak_rss_mb(), "threads": args.threads,
        "model_bytes": os.path.getsize(args.model), **host,
        "input": _tensors([inp], quantization=True)[0], "output": _tensors([out], quantization=True)[0],
        "xnnpack": delegated["xnnpack"], "delegation": delegated, **({"profile": profile} if profile else {}),
    }
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
