"""What a run appends to the history, read back from the result files it wrote (so a run recorded now and
one rebuilt later from the same files are the same): the export/parity folder's parity.json + manifest.json,
or a device bench folder's PRECISION.json files. Each run carries the git commit, tool versions, device and
a fingerprint of the machine the latency was measured on."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from edgeflow.export.manifest import artifact_runtime
from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Precision
from edgeflow.files import read_json, write_json
from edgeflow.paths import project_root

HOST_DEVICE = "local"  # export and parity time on this host: the `local` device profile


def host_facts() -> dict:
    """What identifies this machine for latency: CPU model, cores, arch, OS, Python."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"arch": platform.machine(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}"}


def fingerprint(facts: dict) -> str:
    """A short stable hash of ``facts`` (same machine and software → same fingerprint)."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def git_commit() -> str | None:
    """The checkout's commit (``+dirty`` with uncommitted changes to tracked files), None outside git."""
    root = project_root()
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        if head.returncode:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


HOST_FILE = "host.json"  # beside an export's results: the machine that measured them, and the commit


def write_host_facts(folder: Path) -> dict:
    """Record in ``folder``/host.json which machine (and checkout) produced the results of an export/parity."""
    facts = {"host": host_facts(), "git_commit": git_commit()}
    write_json(folder / HOST_FILE, {**facts, "fingerprint": fingerprint(facts["host"])})
    return facts


def _measured_on(folder: Path) -> dict:
    """host.json of ``folder`` where a finished run wrote it, else this host and checkout now."""
    saved = read_json(folder / HOST_FILE, "host file") if (folder / HOST_FILE).is_file() else None
    if isinstance(saved, dict) and isinstance(saved.get("host"), dict):
        return saved
    return {"host": host_facts(), "git_commit": git_commit()}


def from_export(folder: Path, kind: str = "export") -> tuple[dict, list[dict]]:
    """The run and its measurements from an export or parity folder (parity.json + manifest.json)."""
    parity = read_json(folder / "parity.json", "parity file")
    manifest = read_json(folder / "manifest.json", "export manifest") if (folder / "manifest.json").is_file() else {}
    measured = _measured_on(folder)
    facts = measured["host"]
    ref = parity["reference"]
    latency = {(r["runtime"], r["precision"]): r for r in parity.get("latency", [])}
    measurements = []
    for row in (ref, *parity["rows"]):
        lat = latency.get((row["runtime"], row["precision"]), {})
        measurements.append({
            "runtime": row["runtime"], "precision": row["precision"], "threads": lat.get("threads", 0),
            **{k: lat.get(k) for k in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "iters")},
            "samples_ms": lat.get("samples_ms") or [], "accuracy": row["accuracy"],
            "reference_accuracy": ref["accuracy"], "agreement": row["agreement"], "sqnr_db": row["sqnr_db"]})
    run = {"created_utc": _now(), "kind": kind, "model": parity.get("model") or manifest.get("model", folder.name),
           "device": HOST_DEVICE, "fingerprint": fingerprint(facts), "git_commit": measured.get("git_commit"),
           "tools": {**manifest.get("tools", {}), "host": facts}, "gates": parity.get("gates", {}),
           "passed": parity.get("passed"), "source": str(folder)}
    return run, measurements


def from_bench(folder: Path) -> tuple[dict, list[dict]]:
    """The run and its measurements from a device bench folder (one PRECISION.json per precision)."""
    files = [folder / f"{p.value}.json" for p in Precision if (folder / f"{p.value}.json").is_file()]
    if not files:
        raise EdgeflowError(f"{folder} holds no bench results (PRECISION.json)")
    saved = [read_json(f, "bench results") for f in files]
    records = [(s, r) for s in saved for r in s.get("runs", [])]
    first = records[0][1] if records else {}
    facts = {k: first.get(k) for k in ("arch", "os", "python", "interpreter", "interpreter_version")}
    model, device = saved[0]["model"], saved[0]["device"]
    measurements = [{
        "runtime": artifact_runtime(s),  # a bench result names its converter like a manifest entry
        "precision": s["precision"], "threads": r["threads"],
        **{k: r["latency"].get(k) for k in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "iters")},
        "samples_ms": r["latency"].get("samples_ms") or [], "accuracy": r["parity"]["accuracy"],
        "reference_accuracy": None, "agreement": r["parity"]["agreement"], "sqnr_db": r["parity"]["sqnr_db"]}
        for s, r in records]
    tools = {"interpreter": first.get("interpreter"), "interpreter_version": first.get("interpreter_version"),
             "numpy": first.get("numpy"), "device": facts}
    run = {"created_utc": _now(), "kind": "bench", "model": model, "device": device,
           "fingerprint": fingerprint({**facts, "device": device}), "git_commit": git_commit(), "tools": tools,
           "gates": _card_gates(model), "passed": all(not r["parity"].get("failures") for _, r in records)
           and all(s.get("complete", True) for s in saved), "source": str(folder)}
    return run, measurements


def _card_gates(model: str) -> dict:
    from edgeflow.zoo.cards import get_card

    try:
        return dict(get_card(model).tolerances)
    except EdgeflowError:
        return {}


def from_folder(folder: Path, kind: str | None = None) -> tuple[dict, list[dict]]:
    """``from_export`` or ``from_bench``, whichever files ``folder`` holds."""
    if (folder / "parity.json").is_file():
        return from_export(folder, kind or ("parity" if folder.name.endswith(".parity") else "export"))
    return from_bench(folder)
