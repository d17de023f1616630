"""``edgeflow bench NAME --device D``: run the exported models on a device (each a ``RemoteRunner``), then
compare their outputs with the reference's on the host (PyTorch; for a user's net the export's model.onnx,
``workflows.export_reference``) (``check.parity.compare``) and save the results.

The desktop GPU goes the same run-then-compare way with its own runners (``bench_gpu``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from edgeflow.check.cross_arch import cross_arch_check
from edgeflow.check.parity import ParityReport, ParityRow, RunOutput, check_parity, compare, run
from edgeflow.data import load_dataset, preprocess
from edgeflow.devices.profile import DeviceProfile
from edgeflow.devices.transport import Transport, make_transport
from edgeflow.errors import STOP_SIGNALS, EdgeflowError, Interrupted
from edgeflow.export.artifact import Precision
from edgeflow.export.manifest import verify_artifacts
from edgeflow.export.onnx import ONNX_FILE
from edgeflow.export.litert_torch import FILE_NAMES as LITERT_FILES
from edgeflow.export.tflite import FILE_NAMES as TFLITE_FILES
from edgeflow.files import file_sha256, protected_reason, read_json, write_json
from edgeflow.paths import export_dir
from edgeflow.plots import latency_vs_threads
from edgeflow.runtimes.remote import RemoteRunner, RemoteSession
from edgeflow.runtimes.torch_runner import TorchRunner
from edgeflow.workflows.export_reference import EMBEDDED, model_of_export, reference_of_export


@dataclass
class DeviceRun:
    """What one device run produced; ``incomplete`` names what could not be measured and why."""

    outputs: list[tuple[RunOutput, dict]] = field(default_factory=list)  # logits + the script's record
    incomplete: list[str] = field(default_factory=list)
    stopped: int | None = None  # the signal (SIGINT/SIGTERM) that cut the run short, if one did
    results_dir: Path | None = None  # where the results were written
    profile: dict | None = None  # --profile: per-op times per precision (workflows.op_profile), also profile.json
    verdict: list[str] = field(default_factory=list)  # why int8 is not clearly faster than fp32, if it is not


@dataclass(frozen=True)
class DeviceBenchRow:
    device: str
    precision: str
    threads: int
    record: dict  # the on-device script's JSON (latency, peak RSS, interpreter, arch, ...)
    parity: ParityRow
    cross_arch: dict | None = None  # emulated devices: the device's outputs vs this host's, same kernels

    @property
    def failures(self) -> list[str]:
        return list(self.parity.failures) + ([self.cross_arch["failure"]] if self.cross_arch and
                                             self.cross_arch.get("failure") else [])


def exported_models(name: str, precisions: list[str], folder: Path | None,
                    converter: str = "onnx2tf") -> tuple[dict[str, Path], dict]:
    """The exported .tflite per precision (``converter``'s files), each checked against the export's manifest
    (sha256); and the manifest."""
    known = [p.value for p in Precision]
    unknown = [p for p in precisions if p not in known]
    if unknown or not precisions:
        raise EdgeflowError(f"unknown precision {', '.join(unknown) or '(none given)'}; use some of "
                            f"{', '.join(known)}")
    folder = folder or export_dir() / name
    names = TFLITE_FILES if converter == "onnx2tf" else LITERT_FILES
    if converter not in ("onnx2tf", "litert-torch"):
        raise EdgeflowError(f"unknown converter {converter!r}; use onnx2tf or litert-torch")
    if any(Precision(p) not in names for p in precisions):
        raise EdgeflowError(f"{converter} files exist for {', '.join(p.value for p in names)} only")
    found = {p: folder / names[Precision(p)] for p in precisions}
    missing = [p for p, f in found.items() if not f.is_file()]
    if missing:
        flag = (" --int8" if "int8" in missing else "") + ("" if converter == "onnx2tf" else f" --converter {converter}")
        raise EdgeflowError(f"no {', '.join(missing)} TFLite model in {folder}; run `edgeflow export {name}{flag}`")
    return found, verify_artifacts(folder, name, list(found.values()))


def default_results_dir(name: str, device: str) -> Path:
    """A new folder per run, so a run never replaces results measured before it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return export_dir() / f"{name}.bench" / device / stamp


def check_results_dir(out: Path, precisions: list[str], *, force: bool) -> Path:
    """Refuse a results folder that would silently replace measured results (or is a file, ``.``, ...)."""
    out = Path(os.path.abspath(out.expanduser()))
    why = protected_reason(out)
    if why:
        raise EdgeflowError(f"refusing to write results into {out}: it is {why}; pass --out with a results folder")
    if out.exists() and not out.is_dir():
        raise EdgeflowError(f"{out} is a file, not a folder; pass --out with a folder path")
    existing = [out / f"{p}.json" for p in precisions if (out / f"{p}.json").exists()]
    if existing and not force:
        raise EdgeflowError(f"{existing[0]} holds results measured before; pass --force to replace them or --out "
                            "with another folder")
    return out


def run_on_device(transport: Transport, models: dict[str, Path], x: np.ndarray, threads: list[int], *,
                  warmup: int = 20, iters: int = 200) -> DeviceRun:
    """Each model at each thread count on the device. A failure or a Ctrl-C after some runs keeps what was
    measured and marks the rest incomplete; the remote folder is removed where the device still answers."""
    result = DeviceRun()
    jobs = [(p, m, t) for p, m in models.items() for t in threads]
    with RemoteSession(transport) as session:
        for k, (precision, model, t) in enumerate(jobs):
            runner = RemoteRunner(session, model, precision, t, warmup=warmup, iters=iters)
            try:
                result.outputs.append((run(runner, x), runner.record))
            except EdgeflowError as e:
                if not result.outputs:
                    raise
                result.incomplete += [f"{p} x{n} threads: not measured ({e})" for p, _, n in jobs[k:]]
                break
            except STOP_SIGNALS as e:  # Ctrl-C/SIGTERM: keep what was measured, the caller saves it
                if not result.outputs:
                    raise
                result.stopped = getattr(e, "signum", 2)
                result.incomplete += [f"{p} x{n} threads: not measured (interrupted)" for p, _, n in jobs[k:]]
                break
    return result


def bench_on_device(name: str, profile: DeviceProfile, *, precisions: list[str], threads: list[int],
                    samples: int = 1000, iters: int = 200, export_folder: Path | None = None,
                    accept_new_host_key: bool = False, results_dir: Path | None = None,
                    force: bool = False, converter: str = "onnx2tf",
                    profile_ops: bool = False) -> tuple[list[DeviceBenchRow], DeviceRun]:
    """Run each precision × thread count on the device, gate its logits against PyTorch on the host, and
    write ``<results_dir>/<precision>.json`` + latency.png (``run.results_dir``; kept, marked incomplete, on
    a failure or a Ctrl-C; after a Ctrl-C, Interrupted is raised once the measured results are saved).
    ``profile_ops``: also time every op alone at the first thread count (profile.json, ``run.profile``)."""
    if any(t < 1 for t in threads):
        raise EdgeflowError(f"thread counts must be >= 1, got {','.join(map(str, threads))}")
    models, manifest = exported_models(name, precisions, export_folder, converter)
    ref = reference_of_export(name, export_folder or export_dir() / name, manifest)
    out = check_results_dir(results_dir or default_results_dir(name, profile.name), precisions, force=force)
    test = load_dataset(ref.data, "test", ref.data_dir, img_size=ref.card.img_size,
                        in_chans=ref.card.in_chans).subset(samples)
    ref.card.check_fits(test)
    x = preprocess(test.images, ref.card.mean, ref.card.std)
    transport = make_transport(profile, accept_new_host_key=accept_new_host_key)
    run_ = run_on_device(transport, models, x, threads, iters=iters)
    if profile_ops and run_.stopped is None and run_.outputs:
        _profile(run_, transport, models, threads[0], iters)
    report = compare(run(ref.runner, x), [o for o, _ in run_.outputs], test.labels, gates=ref.gates,
                     data_sha256=test.sha256())
    emulated = bool(profile.extra.get("emulated"))
    run_.verdict = run_.profile["verdict"] if run_.profile else _speed_verdict(run_, emulated)
    rows = [DeviceBenchRow(profile.name, rec["precision"], rec["threads"], rec, row,
                           cross_arch_check(models[rec["precision"]], x, o.logits, rec) if emulated else None)
            for (o, rec), row in zip(run_.outputs, report.rows)]
    for precision, path in models.items():
        mine = [r for r in rows if r.precision == precision]
        write_json(out / f"{precision}.json", {
            "model": name, "device": profile.name, "transport": profile.transport, "precision": precision,
            "reference": report.reference.label, "data": test.name, "converter": converter,
            "artifact_sha256": file_sha256(path), "samples": len(x), "data_sha256": test.sha256(),
            "complete": not run_.incomplete, "incomplete": [m for m in run_.incomplete if m.startswith(precision)],
            "emulated": emulated, **({"verdict": run_.verdict} if precision == "int8" and run_.verdict else {}),
            "runs": [{**r.record, "parity": r.parity.__dict__, "cross_arch": r.cross_arch} for r in mine]})
    if run_.profile:
        write_json(out / "profile.json", {"model": name, "converter": converter, **run_.profile})
    if rows:
        latency_vs_threads(_latency_series(out, name), out / "latency.png", f"{name} on {profile.name}")
    run_.results_dir = out
    if run_.stopped is not None:
        kept = ", ".join(sorted({r.precision for r in rows})) or "nothing"
        raise Interrupted(f"kept what was measured ({kept}) in {out}", run_.stopped)
    return rows, run_


def _profile(run_: DeviceRun, transport: Transport, models: dict[str, Path], threads: int, iters: int) -> None:
    """The per-op profile after the bench runs; a failure or Ctrl-C there keeps the bench results."""
    from edgeflow.workflows.op_profile import profile_on_device

    try:
        run_.profile = profile_on_device(transport, models, threads=threads, iters=iters)
    except EdgeflowError as e:
        run_.incomplete.append(f"profile: not measured ({e})")
    except STOP_SIGNALS as e:
        run_.stopped = getattr(e, "signum", 2)
        run_.incomplete.append("profile: not measured (interrupted)")


def _speed_verdict(run_: DeviceRun, emulated: bool) -> list[str]:
    """Without a profile: int8 vs fp32 whole-model p50 at the same thread count, and the fingerprint."""
    from edgeflow.check.verdict import int8_verdict

    p50 = {(rec["precision"], rec["threads"]): rec for _, rec in run_.outputs}
    for (precision, t), int8 in p50.items():
        fp32 = p50.get(("fp32", t))
        if precision == "int8" and fp32:
            return int8_verdict(fp32["latency"]["p50_ms"] / int8["latency"]["p50_ms"],
                                int8.get("fingerprint") or {}, emulated=emulated)
    return []


def _latency_series(folder: Path, name: str) -> dict[str, list[tuple[int, float]]]:
    """p50 per thread count for every precision with results in ``folder`` (this run's and earlier ones)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for p in Precision:
        path = folder / f"{p.value}.json"
        if not path.is_file():
            continue
        saved = read_json(path, "results file")
        if not isinstance(saved, dict) or saved.get("model") != name:
            continue
        series[p.value] = [(r["threads"], r["latency"]["p50_ms"]) for r in saved.get("runs", [])]
    return series


def bench_gpu(name: str, profile: DeviceProfile, *, samples: int = 1000,
              export_folder: Path | None = None) -> tuple[ParityReport, str]:
    """Desktop GPU: PyTorch CUDA and ONNX Runtime CUDA/TensorRT against PyTorch on the CPU. Returns the
    report and why ONNX Runtime CUDA did not run ('' when it did)."""
    from edgeflow.runtimes.gpu import gpu_runners, missing_ort_gpu, require_gpu

    missing = missing_ort_gpu(require_gpu(profile.name))
    onnx_path = (export_folder or export_dir() / name) / ONNX_FILE
    if not onnx_path.is_file():
        raise EdgeflowError(f"no {onnx_path}; run `edgeflow export {name}` first")
    manifest = verify_artifacts(onnx_path.parent, name, [onnx_path])
    if (manifest.get("source") or {}).get("kind", "zoo") != "zoo":
        raise EdgeflowError(f"{name} is your own net: the desktop-GPU bench runs zoo nets only for now")
    loaded = model_of_export(name, manifest)
    test = load_dataset(EMBEDDED, "test").subset(samples)
    x = preprocess(test.images, loaded.card.mean, loaded.card.std)
    report = check_parity(TorchRunner(loaded.model), gpu_runners(loaded.model, onnx_path, profile.name), x,
                          test.labels, gates=loaded.card.tolerances)
    return report, missing
