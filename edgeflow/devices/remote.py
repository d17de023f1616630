"""Run the standalone on-device script on a device: push, run, pull, clean up."""

from __future__ import annotations

import json
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeflow.devices import ondevice_bench
from edgeflow.devices.benchmark_model import parse_benchmark_model
from edgeflow.devices.transport import Transport, _last
from edgeflow.errors import STOP_SIGNALS, EdgeflowError

SCRIPT = Path(ondevice_bench.__file__)


@dataclass
class DeviceRun:
    """What one device run produced; ``incomplete`` names what could not be measured and why."""

    records: list[dict] = field(default_factory=list)  # one per (precision, threads), with "logits"
    incomplete: list[str] = field(default_factory=list)
    stopped: int | None = None  # the signal (SIGINT/SIGTERM) that cut the run short, if one did
    results_dir: Path | None = None  # where the results were written


def _script_argv(transport: Transport, remote_dir: str, extra: list[str]) -> list[str]:
    p = transport.profile
    argv = [p.python, f"{remote_dir}/ondevice_bench.py", "--interpreter", p.interpreter, *extra]
    return ["taskset", p.cpu_mask, *argv] if p.cpu_mask else argv


def _parse(transport: Transport, proc, what: str) -> dict:
    name, py = transport.profile.name, transport.profile.python
    if proc.returncode == 127 or "not found" in proc.stderr and py in proc.stderr:
        raise EdgeflowError(f"device {name}: python command {py!r} not found; set `python` in its profile")
    if proc.returncode == 126:
        raise EdgeflowError(f"device {name}: {py!r} is not executable there; set `python` in its profile")
    if "no TFLite interpreter found" in proc.stderr:
        raise EdgeflowError(f"device {name}: {_last(proc.stderr)}")
    if proc.returncode != 0:
        raise EdgeflowError(f"device {name}: {what} failed (exit {proc.returncode}): {_last(proc.stderr)}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as e:
        raise EdgeflowError(f"device {name}: {what} printed no JSON result: {_last(proc.stdout)}") from e


def probe(transport: Transport) -> dict:
    """Reachable? Which python, interpreter, arch? (Pushes only the script.)"""
    remote = transport.make_temp_dir()
    try:
        transport.push(SCRIPT, f"{remote}/ondevice_bench.py")
        return _parse(transport, transport.run_tracked(_script_argv(transport, remote, ["--probe"]), remote), "probe")
    finally:
        transport.remove_dir(remote)


def run_models(transport: Transport, models: dict[str, Path], inputs: np.ndarray, threads: list[int], *,
               warmup: int = 20, iters: int = 200) -> DeviceRun:
    """Benchmark each model at each thread count and run ``inputs`` (NCHW float) through it.

    A failure after some runs keeps what was measured and marks the rest incomplete; the remote temp
    folder is removed where the device still answers.
    """
    result = DeviceRun()
    remote = transport.make_temp_dir()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            local_in = Path(tmp) / "inputs.npy"
            np.save(local_in, np.ascontiguousarray(inputs, np.float32))
            transport.push(SCRIPT, f"{remote}/ondevice_bench.py")
            transport.push(local_in, f"{remote}/inputs.npy")
            jobs = [(p, m, t) for p, m in models.items() for t in threads]
            pushed: set[str] = set()
            for k, (precision, model, t) in enumerate(jobs):
                try:
                    result.records.append(_one_run(transport, remote, Path(tmp), precision, model, t, warmup, iters,
                                                    pushed))
                except EdgeflowError as e:
                    if not result.records:
                        raise
                    result.incomplete += [f"{p} x{n} threads: not measured ({e})" for p, _, n in jobs[k:]]
                    break
                except STOP_SIGNALS as e:  # Ctrl-C/SIGTERM: keep what was measured, the caller saves it
                    if not result.records:
                        raise
                    result.stopped = getattr(e, "signum", signal.SIGINT)
                    result.incomplete += [f"{p} x{n} threads: not measured (interrupted)" for p, _, n in jobs[k:]]
                    break
    finally:
        transport.remove_dir(remote)
    return result


def _one_run(transport: Transport, remote: str, tmp: Path, precision: str, model: Path, threads: int,
             warmup: int, iters: int, pushed: set[str]) -> dict:
    remote_model = f"{remote}/{model.name}"
    if remote_model not in pushed:
        transport.push(model, remote_model)
        pushed.add(remote_model)
    out = f"{remote}/logits_{precision}_{threads}.npy"
    argv = _script_argv(transport, remote, ["--model", remote_model, "--threads", str(threads), "--warmup",
                                            str(warmup), "--iters", str(iters), "--inputs", f"{remote}/inputs.npy",
                                            "--outputs", out])
    proc = transport.run_tracked(argv, remote)
    rec = _parse(transport, proc, f"{precision} x{threads} threads")
    rec["xnnpack"] = "XNNPACK delegate" in proc.stderr  # LiteRT logs this line when it applies XNNPACK
    tool = transport.profile.benchmark_model
    if tool:  # LiteRT's own C++ benchmark, where the device has it: its numbers go beside ours
        proc = transport.run_tracked([tool, f"--graph={remote_model}", f"--num_threads={threads}",
                                      f"--num_runs={iters}"], remote)
        rec["benchmark_model"] = parse_benchmark_model(proc.stdout + proc.stderr)
    transport.pull(out, tmp / Path(out).name)
    rec.update(precision=precision, logits=_load_logits(transport, tmp / Path(out).name))
    return rec


def _load_logits(transport: Transport, path: Path) -> np.ndarray:
    """The outputs a device sent back: a plain numeric .npy (a pickled object array is refused)."""
    try:
        logits = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise EdgeflowError(f"device {transport.profile.name}: its output file is not a numeric .npy "
                            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'unreadable'})") from e
    if logits.dtype.kind not in "iuf" or logits.ndim != 2:
        raise EdgeflowError(f"device {transport.profile.name}: its outputs are {logits.dtype} {logits.shape}, "
                            "not a 2-D array of logits")
    return logits
