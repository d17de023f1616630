"""``edgeflow bench NAME --device D``: latency and memory on the device, parity computed on the host."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from edgeflow.cards import get_card
from edgeflow.data import load_dataset, preprocess
from edgeflow.devices.profile import DeviceProfile
from edgeflow.devices.remote import DeviceRun, run_models
from edgeflow.devices.transport import make_transport
from edgeflow.errors import EdgeflowError, Interrupted
from edgeflow.export.artifact import Precision
from edgeflow.export.manifest import verify_artifacts
from edgeflow.export.tflite import FILE_NAMES as TFLITE_FILES
from edgeflow.files import file_sha256, read_json, write_json
from edgeflow.parity import ParityRow, check_parity
from edgeflow.paths import export_dir
from edgeflow.plots import latency_vs_threads
from edgeflow.registry import create_model
from edgeflow.runtimes.precomputed import PrecomputedRunner
from edgeflow.runtimes.torch_runner import TorchRunner


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


def _artifacts(name: str, precisions: list[str], folder: Path | None) -> dict[str, Path]:
    """The exported .tflite per precision, each checked against the export's manifest (sha256)."""
    known = [p.value for p in Precision]
    unknown = [p for p in precisions if p not in known]
    if unknown or not precisions:
        raise EdgeflowError(f"unknown precision {', '.join(unknown) or '(none given)'}; use some of "
                            f"{', '.join(known)}")
    folder = folder or export_dir() / name
    found = {p: folder / TFLITE_FILES[Precision(p)] for p in precisions}
    missing = [p for p, f in found.items() if not f.is_file()]
    if missing:
        flag = " --int8" if "int8" in missing else ""
        raise EdgeflowError(f"no {', '.join(missing)} TFLite model in {folder}; run `edgeflow export {name}{flag}`")
    verify_artifacts(folder, name, list(found.values()))
    return found


def default_results_dir(name: str, device: str) -> Path:
    """A new folder per run, so a run never replaces results measured before it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return export_dir() / f"{name}.bench" / device / stamp


def check_results_dir(out: Path, precisions: list[str], *, force: bool) -> Path:
    """Refuse a results folder that would silently replace measured results (or is a file, ``.``, ...)."""
    from edgeflow.outdir import protected_reason

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


def bench_on_device(name: str, profile: DeviceProfile, *, precisions: list[str], threads: list[int],
                    samples: int = 1000, iters: int = 200, export_folder: Path | None = None,
                    accept_new_host_key: bool = False, results_dir: Path | None = None,
                    force: bool = False) -> tuple[list[DeviceBenchRow], DeviceRun]:
    """Run each precision × thread count on the device, gate its logits against PyTorch on the host, and
    write ``<results_dir>/<precision>.json`` + latency.png (``run.results_dir``) (kept, marked incomplete, on a failure or a
    Ctrl-C; after a Ctrl-C, Interrupted is raised once the measured results are saved)."""
    if any(t < 1 for t in threads):
        raise EdgeflowError(f"thread counts must be >= 1, got {','.join(map(str, threads))}")
    card = get_card(name)
    models = _artifacts(name, precisions, export_folder)
    out = check_results_dir(results_dir or default_results_dir(name, profile.name), precisions, force=force)
    test = load_dataset("fashion-mnist-embedded", "test").subset(samples)
    x = preprocess(test.images, card.mean, card.std)
    transport = make_transport(profile, accept_new_host_key=accept_new_host_key)
    run = run_models(transport, models, x, threads, iters=iters)
    model = create_model(name, pretrained=True, num_classes=len(card.classes), in_chans=card.in_chans,
                         img_size=card.img_size)
    with TorchRunner(model) as torch_runner:
        reference = torch_runner.infer_all(x)
    rows = []
    for rec in run.records:
        logits = rec.pop("logits")
        report = check_parity(PrecomputedRunner("pytorch", "fp32", reference),
                              [PrecomputedRunner(profile.name, rec["precision"], logits)],
                              x, test.labels, gates=card.tolerances, data_sha256=test.sha256())
        cross = cross_arch_check(models[rec["precision"]], x, logits, rec) if profile.extra.get("emulated") else None
        rows.append(DeviceBenchRow(profile.name, rec["precision"], rec["threads"], rec, report.rows[0], cross))
    for precision, path in models.items():
        mine = [r for r in rows if r.precision == precision]
        write_json(out / f"{precision}.json", {
            "model": name, "device": profile.name, "transport": profile.transport, "precision": precision,
            "artifact_sha256": file_sha256(path), "samples": len(x), "data_sha256": test.sha256(),
            "complete": not run.incomplete, "incomplete": [m for m in run.incomplete if m.startswith(precision)],
            "emulated": bool(profile.extra.get("emulated")),
            "runs": [{**r.record, "parity": r.parity.__dict__, "cross_arch": r.cross_arch} for r in mine]})
    if rows:
        latency_vs_threads(_latency_series(out, name), out / "latency.png", f"{name} on {profile.name}")
    if run.stopped is not None:
        kept = ", ".join(sorted({r.precision for r in rows})) or "nothing"
        raise Interrupted(f"kept what was measured ({kept}) in {out}", run.stopped)
    run.results_dir = out
    return rows, run


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


def cross_arch_check(model: Path, x, device_logits, record: dict) -> dict:
    """Compare an (emulated) ARM device's outputs with this host's, both under XNNPACK, one thread.

    int8 must be bit-exact (differences are counted in output LSBs); float within 1e-5. A device that ran
    without XNNPACK fails: its built-in kernels are not what a real board runs by default.
    """
    import numpy as np

    from edgeflow.runtimes.tflite_runner import TFLiteRunner

    with TFLiteRunner(model, record["precision"], threads=1) as host:
        host_logits = host.infer_all(x)
    diff = np.abs(device_logits.astype(np.float64) - host_logits)
    result = {"host_kernels": "XNNPACK", "device_kernels": "XNNPACK" if record.get("xnnpack") else "built-in",
              "max_abs_diff": float(diff.max())}
    scale = record["output"]["quantization"][0]
    if record["output"]["dtype"] == "int8" and scale:
        lsb = np.rint(diff / scale).astype(int)
        result.update(bit_exact=bool((lsb == 0).all()), lsb_max=int(lsb.max()), values_off=int((lsb > 0).sum()),
                      values=int(lsb.size))
        if not result["bit_exact"]:
            result["failure"] = (f"int8 not bit-exact vs host: {result['values_off']}/{lsb.size} values off, "
                                 f"up to {result['lsb_max']} LSB")
    elif diff.max() > 1e-5:
        result["failure"] = f"float outputs differ from the host's by {diff.max():.2e} (> 1e-5)"
    if not record.get("xnnpack"):
        result["failure"] = "XNNPACK was not active on the device (CPU detection failed?): not a real board's kernels"
    return result
