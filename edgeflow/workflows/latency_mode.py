"""``export --int8 --optimize latency [--target DEVICE]``: int8 that runs as fast as the target allows.

Full int8 is not always the fastest int8: on x86, XNNPACK's int8 depthwise kernels are slower than its fp32
ones. Latency mode profiles the fp32 and full-int8 files op by op on the target (``workflows.op_profile``),
takes the op types that run clearly slower in int8 there, and builds candidates from onnx2tf's SavedModel
with those types kept in float (the TF quantization debugger's ``denylisted_ops``, as the fallback uses):
each slow type alone, and all of them together. The candidates are timed on the target beside full int8
and fp32, in one process, interleaved. The fastest candidate that beats full int8 and meets the int8 gates
(checked by the parity engine as ``latency_*``) becomes ``model_latency.tflite``, recorded as not fully
integer. When none does, nothing is written and the manifest says why.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from edgeflow.check.parity import ParityReport, RunOutput, compare, run
from edgeflow.devices.profile import DeviceProfile, load_profile
from edgeflow.devices.transport import make_transport
from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.export.inspect import inspect_tflite
from edgeflow.export.mixed import MixedQuantizer
from edgeflow.export.tflite import FILE_NAMES
from edgeflow.runtimes.tflite_runner import TFLiteRunner
from edgeflow.workflows.fallback import mixed_gates

OPTIMIZE = ("none", "latency")
DEFAULT_TARGET = "local"
SLOWER = 1.1  # an op type counts as slower in int8 when its int8 time is > SLOWER × its fp32 time ...
MIN_SHARE = 0.02  # ... and it takes at least this share of the int8 model's per-op time (noise otherwise)
MAX_TYPES = 4  # slow types tried (most int8 time first): candidates are each alone plus all together
ROUNDS = 3  # interleaved timing rounds per candidate


def check_optimize(optimize: str, target: str | None, precisions, converters) -> DeviceProfile | None:
    """Bad input before any work; the target's device profile when latency mode is on."""
    if optimize not in OPTIMIZE:
        raise EdgeflowError(f"unknown --optimize {optimize!r}; use one of {', '.join(OPTIMIZE)}")
    if optimize == "none":
        if target is not None:
            raise EdgeflowError("--target is the device --optimize latency measures on: add --optimize latency")
        return None
    if Precision.INT8 not in precisions or "onnx2tf" not in converters:
        raise EdgeflowError("--optimize latency starts from a full-int8 onnx2tf model: add --int8 (and keep the "
                            "onnx2tf converter)")
    profile = load_profile(target or DEFAULT_TARGET)
    if profile.extra.get("gpu"):
        raise EdgeflowError(f"--target {profile.name} runs no TFLite: pass a CPU device (local, an SSH board, "
                            "adb, an emulated Pi)")
    return profile


def slower_in_int8(by_type: list[dict]) -> list[dict]:
    """The profile's op types that run clearly slower in int8 than in fp32 and matter, most int8 time first."""
    total = sum(r["us"].get("int8", 0.0) for r in by_type) or 1.0
    slow = [r for r in by_type if r["int8_over_fp32"] is not None and r["int8_over_fp32"] > SLOWER
            and r["us"]["int8"] / total >= MIN_SHARE]
    return sorted(slow, key=lambda r: -r["us"]["int8"])[:MAX_TYPES]


def candidate_sets(slow_types: list[str]) -> list[tuple[str, ...]]:
    """Each slow type alone, then all of them together (when there are several)."""
    sets = [(t,) for t in slow_types]
    return sets + [tuple(slow_types)] if len(slow_types) > 1 else sets


def optimize_latency(made, saved_model: Path, out_dir: Path, ref: RunOutput, x: np.ndarray, labels: np.ndarray,
                     report: ParityReport, *, target: DeviceProfile,
                     per_tensor: bool, threads: int, iters: int,
                     step: Callable[[str], None]) -> tuple[ParityReport, dict]:
    """Latency mode on ``target``; ``made`` (``workflows.export._Converted``) gains model_latency.tflite when
    a candidate wins. Returns the report (with the latency row when one does) and the manifest's record."""
    from edgeflow.workflows.op_profile import profile_on_device, time_models_on_device

    transport = make_transport(target)
    models = {"fp32": made.tflite[Precision.FP32].path, "int8": made.tflite[Precision.INT8].path}
    step(f"latency mode: per-op profile of fp32 and int8 on {target.name}")
    profile = profile_on_device(transport, models, threads=threads, iters=iters)
    slow = slower_in_int8(profile["by_type"])
    record = {"mode": "latency", "target": target.name, "emulated": profile["emulated"], "threads": threads,
              "fingerprint": profile["fingerprint"], "profile_int8_speedup": profile["int8_speedup"],
              "slower_in_int8": [{"type": r["type"], "int8_over_fp32": r["int8_over_fp32"], "us": r["us"]}
                                 for r in slow],
              "thresholds": {"slower": SLOWER, "min_share": MIN_SHARE}, "candidates": [], "float_ops": None}
    if not slow:
        record["message"] = (f"no op type runs clearly slower in int8 on {target.name}"
                             f"{' (emulated)' if profile['emulated'] else ''}: full int8 is the fastest")
        step(f"latency mode: {record['message']}")
        return report, record
    step(f"latency mode: slower in int8 on {target.name}: "
         + ", ".join(f"{r['type']} {r['int8_over_fp32']:.2f}×" for r in slow))
    quantizer = MixedQuantizer(saved_model, np.ascontiguousarray(made.calib.transpose(0, 2, 3, 1)),
                               per_tensor=per_tensor)
    sets = candidate_sets([r["type"] for r in slow])
    scratch = {s: out_dir / f".latency_{k}.tflite" for k, s in enumerate(sets)}
    try:
        for s, path in scratch.items():
            path.write_bytes(quantizer.build(float_ops=list(s)))
        step(f"latency mode: timing {len(sets)} candidate(s) beside fp32 and int8 on {target.name}")
        timed = time_models_on_device(transport, {**models, **{"+".join(s): p for s, p in scratch.items()}},
                                      threads=threads, iters=iters, rounds=ROUNDS)
        us = timed["median_us"]
        record.update(p50_us={"fp32": us["fp32"], "int8": us["int8"]}, rounds=ROUNDS, iters=iters)
        record["candidates"] = [{"float_ops": list(s), "median_us": us["+".join(s)],
                                 "speedup_vs_int8": us["int8"] / us["+".join(s)],
                                 "speedup_vs_fp32": us["fp32"] / us["+".join(s)]} for s in sets]
        return _choose(made, scratch, us, out_dir, ref, x, labels, report, record, step)
    finally:
        for path in scratch.values():
            path.unlink(missing_ok=True)


def _choose(made, scratch: dict[tuple[str, ...], Path], us: dict[str, float], out_dir: Path, ref: RunOutput,
            x: np.ndarray, labels: np.ndarray, report: ParityReport, record: dict,
            step: Callable[[str], None]) -> tuple[ParityReport, dict]:
    """The fastest candidate faster than full int8 that meets the int8 gates, added to ``made`` and the report."""
    gates = mixed_gates(report.gates, Precision.LATENCY)
    faster = sorted((s for s in scratch if us["+".join(s)] < us["int8"]), key=lambda s: us["+".join(s)])
    for s in faster:
        output = run(TFLiteRunner(scratch[s], Precision.LATENCY.value), x)
        row = compare(ref, [output], labels, gates=gates).rows[0]
        if row.failures:
            step(f"latency mode: {'+'.join(s)} in float misses the int8 gate ({'; '.join(row.failures)})")
            continue
        path = out_dir / FILE_NAMES[Precision.LATENCY]
        scratch[s].replace(path)
        made.tflite[Precision.LATENCY] = Artifact.of(path, "tflite", Precision.LATENCY,
                                                     made.onnx.sha256)
        made.info[Precision.LATENCY] = inspect_tflite(path)
        record.update(float_ops=list(s), fully_integer=made.info[Precision.LATENCY]["fully_integer"],
                      message=f"{' and '.join(s)} kept in float: {us['int8'] / us['+'.join(s)]:.2f}× the speed "
                              f"of full int8, {us['fp32'] / us['+'.join(s)]:.2f}× fp32 on {record['target']}"
                              f"{' (emulated)' if record['emulated'] else ''}; not fully integer")
        step(f"latency mode: {record['message']}")
        return replace(report, rows=report.rows + (row,), gates={**report.gates, **gates}), record
    record["message"] = (f"no candidate beats full int8 on {record['target']} within the int8 gate "
                         f"(full int8 {us['int8']:.0f} µs, fp32 {us['fp32']:.0f} µs)")
    step(f"latency mode: {record['message']}")
    return report, record


def add_to_manifest(manifest: dict, record: dict) -> None:
    """The record at the top level, and on model_latency.tflite's entry the op types it keeps in float."""
    manifest["optimize"] = record
    for entry in manifest["artifacts"]:
        if entry["file"] == FILE_NAMES[Precision.LATENCY]:
            entry.update(float_ops=record["float_ops"], target=record["target"])
