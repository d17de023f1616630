"""Devices as runners: the standalone on-device script run over a transport (push, run, pull, clean up)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from edgeflow.devices import ondevice_bench
from edgeflow.devices.benchmark_model import parse_benchmark_model
from edgeflow.devices.transport import Transport, _last
from edgeflow.errors import EdgeflowError
from edgeflow.runtimes.base import Runner

SCRIPT = Path(ondevice_bench.__file__)


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
        proc = transport.run_tracked(_script_argv(transport, remote, ["--probe"]), remote)
        return label_fingerprint(_parse(transport, proc, "probe"), transport.profile)
    finally:
        transport.remove_dir(remote)


def label_fingerprint(record: dict, profile) -> dict:
    """Say honestly what a record's fingerprint describes. Under qemu-user the script sees the sysroot's
    /proc/cpuinfo (a file matching the emulated core) but this host's /sys and core count: governor,
    temperature and cores are the host's, so they are renamed host_*; the emulated core is named."""
    fp = record.get("fingerprint")
    if isinstance(fp, dict) and profile.extra.get("emulated"):
        fp.update(emulated=True, qemu_cpu=profile.qemu_cpu or None)
        for key in ("governor", "temperature_c", "cores", "usable_cores"):
            fp[f"host_{key}"] = fp.pop(key, None)
    return record


class RemoteSession:
    """A per-run temp folder on a device, holding the script, the inputs and the models pushed so far;
    removed on exit on every path (the device may be gone already: best effort)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.dir = ""
        self.local = Path()
        self._pushed: set[str] = set()
        self._inputs: int | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> "RemoteSession":
        self._tmp = tempfile.TemporaryDirectory()
        self.local = Path(self._tmp.name)
        self.dir = self.transport.make_temp_dir()
        return self

    def __exit__(self, *exc: object) -> None:
        self.transport.remove_dir(self.dir)
        if self._tmp:
            self._tmp.cleanup()

    def push_once(self, local: Path, name: str) -> str:
        remote = f"{self.dir}/{name}"
        if remote not in self._pushed:
            self.transport.push(local, remote)
            self._pushed.add(remote)
        return remote

    def push_inputs(self, x: np.ndarray) -> str:
        """The inputs as ``inputs.npy`` (pushed again only when they change)."""
        if self._inputs != id(x):
            path = self.local / "inputs.npy"
            np.save(path, np.ascontiguousarray(x, np.float32))
            self.transport.push(path, f"{self.dir}/inputs.npy")
            self._inputs = id(x)
        return f"{self.dir}/inputs.npy"


class RemoteRunner(Runner):
    """One .tflite at one thread count on a device behind a transport (board, phone, emulated core, this
    host): ``infer_all`` runs the standalone script there on the inputs and returns the logits it pulled
    back; the script's latency/memory measurement of the same run is kept in ``record``."""

    def __init__(self, session: RemoteSession, model: Path, precision: str, threads: int = 1, *,
                 warmup: int = 20, iters: int = 200) -> None:
        self.session, self.model, self.precision, self.threads = session, model, precision, threads
        self.name = session.transport.profile.name
        self.warmup, self.iters = warmup, iters
        self.record: dict = {}

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self.infer_all(batch)

    def infer_all(self, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
        s, t = self.session, self.session.transport
        s.push_once(SCRIPT, "ondevice_bench.py")
        remote_model = s.push_once(self.model, self.model.name)
        out = f"{s.dir}/logits_{self.precision}_{self.threads}.npy"
        argv = _script_argv(t, s.dir, ["--model", remote_model, "--threads", str(self.threads), "--warmup",
                                       str(self.warmup), "--iters", str(self.iters), "--inputs", s.push_inputs(x),
                                       "--outputs", out])
        proc = t.run_tracked(argv, s.dir)
        rec = _parse(t, proc, f"{self.precision} x{self.threads} threads")
        if rec.get("xnnpack") is None:  # an interpreter that hides its graph: LiteRT logs this line instead
            rec["xnnpack"] = "XNNPACK delegate" in proc.stderr
        label_fingerprint(rec, t.profile)
        if t.profile.benchmark_model:  # LiteRT's own C++ benchmark, where the device has it: beside ours
            proc = t.run_tracked([t.profile.benchmark_model, f"--graph={remote_model}",
                                  f"--num_threads={self.threads}", f"--num_runs={self.iters}"], s.dir)
            rec["benchmark_model"] = parse_benchmark_model(proc.stdout + proc.stderr)
        t.pull(out, s.local / Path(out).name)
        self.record = {**rec, "precision": self.precision}
        return _load_logits(t, s.local / Path(out).name)


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
