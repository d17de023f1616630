"""``edgeflow bench NAME --profile``: where each precision's time goes, op by op, measured on the device.

Each precision's .tflite is cut on the host into single-op models (``devices.op_cut``), pushed as one tar
with the on-device script, and timed there in one script process (the emulated Pi pays qemu's start-up once
per precision, not per op). The per-op medians are checked against the whole model's median measured in the
same process: their sum must lie within ``SUM_TOLERANCE`` of it, else the per-op numbers do not add up to
what the model costs (e.g. caches, threads or delegate partitions behave differently op by op).
"""

from __future__ import annotations

import tarfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from edgeflow.check.verdict import int8_verdict
from edgeflow.devices.op_cut import CutOp, cut_ops
from edgeflow.devices.transport import Transport
from edgeflow.errors import EdgeflowError
from edgeflow.runtimes.remote import SCRIPT, RemoteSession, _parse, _script_argv, label_fingerprint

SUM_TOLERANCE = 0.25  # |sum of per-op medians / whole-model median - 1| allowed


def profile_on_device(transport: Transport, models: dict[str, Path], *, threads: int = 1, iters: int = 100,
                      warmup: int | None = None) -> dict:
    """The per-op profile of every precision in ``models`` on the device behind ``transport`` (each op and the
    whole model: ``warmup`` untimed runs, by default a tenth of ``iters`` and at least 2, then ``iters``)."""
    warmup = max(2, iters // 10) if warmup is None else warmup
    emulated = bool(transport.profile.extra.get("emulated"))
    precisions: dict[str, dict] = {}
    fingerprint: dict = {}
    with RemoteSession(transport) as s:
        s.push_once(SCRIPT, "ondevice_bench.py")
        for precision, model in models.items():
            tar = s.local / f"ops_{precision}.tar"
            cut = cut_ops(model, tar)
            argv = _script_argv(transport, s.dir, [
                "--model", s.push_once(model, model.name), "--threads", str(threads), "--warmup", str(warmup),
                "--iters", str(iters), "--profile-ops", s.push_once(tar, tar.name)])
            rec = label_fingerprint(_parse(transport, transport.run_tracked(argv, s.dir), f"{precision} profile"),
                                    transport.profile)
            fingerprint = rec.get("fingerprint") or fingerprint
            precisions[precision] = summarize(rec["profile"], cut)
    result = {"device": transport.profile.name, "emulated": emulated, "threads": threads, "iters": iters,
              "sum_tolerance": SUM_TOLERANCE, "fingerprint": fingerprint, "precisions": precisions,
              "by_type": by_type(precisions)}
    fp32, int8 = precisions.get("fp32"), precisions.get("int8")
    result["int8_speedup"] = fp32["whole_us"] / int8["whole_us"] if fp32 and int8 and int8["whole_us"] else None
    result["verdict"] = (int8_verdict(result["int8_speedup"], fingerprint, result["by_type"], int8["ops"],
                                      emulated=emulated, fp32_ops=fp32["ops"])
                         if result["int8_speedup"] is not None else [])
    return result


def time_models_on_device(transport: Transport, models: dict[str, Path], *, threads: int = 1, iters: int = 100,
                          rounds: int = 3) -> dict:
    """Whole-model latency of every model in ``models`` on the device, in one script process: the models go
    in the tar the script times one by one (``--profile-ops``), ``rounds`` times interleaved (a slow spell
    of a shared machine hits every model alike). Returns per label the median µs of its rounds' medians,
    and the fingerprint."""
    warmup = max(2, iters // 10)
    labels = list(models)
    with RemoteSession(transport) as s:
        s.push_once(SCRIPT, "ondevice_bench.py")
        tar_path = s.local / "whole_models.tar"
        with tarfile.open(tar_path, "w") as tar:
            for r in range(rounds):
                for k, label in enumerate(labels):
                    tar.add(models[label], arcname=f"{r:02d}_{k:02d}.tflite")
        first = models[labels[0]]
        argv = _script_argv(transport, s.dir, [
            "--model", s.push_once(first, first.name), "--threads", str(threads), "--warmup", str(warmup),
            "--iters", str(warmup), "--profile-ops", s.push_once(tar_path, tar_path.name)])
        rec = label_fingerprint(_parse(transport, transport.run_tracked(argv, s.dir), "whole-model timing"),
                                transport.profile)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for entry in rec["profile"]["ops"]:
        if "error" in entry:
            raise EdgeflowError(f"a model did not run on {transport.profile.name}: {entry['error']}")
        times[labels[int(entry["file"].split("_")[1].split(".")[0])]].append(entry["median_us"])
    return {"median_us": {label: float(np.median(t)) for label, t in times.items()},
            "rounds_us": times, "fingerprint": rec.get("fingerprint") or {}, "threads": threads, "iters": iters,
            "rounds": rounds}


def summarize(measured: dict, cut: list[CutOp]) -> dict:
    """One precision: each op (type, shapes, dtypes, delegated, median µs, share of the sum) and the sum
    check against the whole model."""
    by_file = {c.file: c for c in cut}
    ops = []
    for entry in measured["ops"]:
        c = by_file[entry["file"]]
        ops.append({"index": c.index, "type": c.type, "inputs": entry.get("inputs", []),
                    "outputs": entry.get("outputs", []),
                    "delegated": _delegated(c.index, measured["whole"], entry.get("delegated")),
                    "delegated_alone": entry.get("delegated"), "median_us": entry.get("median_us"),
                    **({"error": entry["error"]} if "error" in entry else {})})
    total = sum(o["median_us"] or 0.0 for o in ops)
    for o in ops:
        o["share"] = (o["median_us"] or 0.0) / total if total else 0.0
    whole = measured["whole"]["median_us"]
    ratio = total / whole if whole else None
    return {"whole_us": whole, "sum_us": total, "sum_ratio": ratio,
            "sum_within_tolerance": ratio is not None and abs(ratio - 1) <= SUM_TOLERANCE,
            "xnnpack": measured["whole"].get("xnnpack"), "delegated_ops": measured["whole"].get("delegated_ops"),
            "untimed_ops": [o["index"] for o in ops if o["median_us"] is None], "ops": ops}


def _delegated(index: int, whole: dict, alone: bool | None) -> bool | None:
    """Whether XNNPACK ran op ``index`` in the whole model (what really runs); where the interpreter did not
    show its graph, what the op alone showed."""
    if whole.get("xnnpack") is None:
        return alone
    return bool(whole["xnnpack"]) and index not in set(whole.get("not_delegated") or [])


def by_type(precisions: dict[str, dict]) -> list[dict]:
    """Per op type: count and summed µs in each precision, and int8 time / fp32 time (>1: int8 is slower)."""
    sums: dict[str, dict[str, float]] = defaultdict(dict)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for precision, p in precisions.items():
        for o in p["ops"]:
            sums[o["type"]][precision] = sums[o["type"]].get(precision, 0.0) + (o["median_us"] or 0.0)
            counts[o["type"]][precision] = counts[o["type"]].get(precision, 0) + 1
    rows = []
    for op_type, us in sums.items():
        fp32, int8 = us.get("fp32"), us.get("int8")
        rows.append({"type": op_type, "count": counts[op_type], "us": us,
                     "int8_over_fp32": int8 / fp32 if fp32 and int8 is not None else None})
    return sorted(rows, key=lambda r: -r["us"].get("int8", r["us"].get("fp32", 0.0)))
