"""The export pipeline behind ``edgeflow export``: checkpoint → ONNX → TFLite → manifest → parity → bench.

Everything is written into a temp folder beside the destination and renamed into place at the end, so an
interrupted or failed export never leaves a half-written ``export/<name>/``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from edgeflow.check.latency import BenchRecord, BenchSpec, benchmark
from edgeflow.check.parity import ParityReport, compare, run, to_markdown
from edgeflow.data import load_dataset, preprocess
from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.export.inspect import inspect_onnx, inspect_tflite
from edgeflow.export.manifest import build_manifest
from edgeflow.export.onnx import ONNX_FILE, export_onnx, import_onnx
from edgeflow.export.quantize import QDQ_FILE, quantize_onnx_fastest
from edgeflow.export.tflite import WORK_DIR, export_tflite
from edgeflow.files import atomic_write, check_output_folder, staged_folder, write_json
from edgeflow.paths import export_dir
from edgeflow.workflows import latency_mode
from edgeflow.workflows.fallback import add_to_manifest, check_fallback, mend_int8
from edgeflow.workflows.litert_path import ConvertedFiles, convert_second
from edgeflow.runtimes.base import Runner
from edgeflow.runtimes.onnxruntime_runner import OnnxRuntimeRunner
from edgeflow.runtimes.tflite_runner import TFLiteRunner
from edgeflow.runtimes.torch_runner import TorchRunner
from edgeflow.zoo.cards import ModelCard, get_card
from edgeflow.zoo.loading import live_model, load_model
from edgeflow.zoo.onnx_source import REFERENCE_RUNTIME, onnx_provenance


@dataclass(frozen=True)
class ExportOptions:
    precisions: tuple[Precision, ...] = (Precision.FP32,)  # TFLite files to write
    onnx_int8: bool = False  # also an ONNX Runtime QDQ int8 model
    float_io: bool = False
    per_tensor: bool = False
    checkpoint: Path | None = None
    random_init: bool = False
    out_dir: Path | None = None
    force: bool = False
    data: str = "fashion-mnist-embedded"
    data_dir: Path | None = None
    parity_samples: int | None = None  # None: the whole test split
    calib_samples: int = 500
    calib_dir: Path | None = None  # calibration images of the user's own (default: the --data train split)
    threads: int = 1
    bench_iters: int = 200
    bench: bool = True
    gates: dict[str, float] = field(default_factory=dict)
    exit: int | None = None  # self-distillation nets: deploy shallow exit k (1 = shallowest) alone
    card: ModelCard | None = None  # a user's own net: its input contract (then NAME is any zoo.sources spec)
    module: torch.nn.Module | None = None  # a live net handed over by the Python API (needs ``card``)
    converters: tuple[str, ...] = ("onnx2tf",)  # onnx2tf and/or litert-torch (workflows.litert_path)
    fallback: str = "none"  # "auto": when full int8 misses its gate, keep a few layers float (workflows.fallback)
    optimize: str = "none"  # "latency": keep float the op types the target runs slower in int8 (latency_mode)
    target: str | None = None  # the device --optimize latency measures on (a device profile; default local)


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    manifest: dict
    parity: ParityReport
    bench: tuple[BenchRecord, ...]
    seconds: dict[str, float]


Step = Callable[[str], None]


def run_export(name: str, opts: ExportOptions, step: Step = lambda _: None) -> ExportResult:
    """Export ``name`` and check it. A broken gate does not raise: ``bool(result.parity)`` is False."""
    check_fallback(opts.fallback, opts.precisions, opts.converters)
    target = latency_mode.check_optimize(opts.optimize, opts.target, opts.precisions, opts.converters)
    card = opts.card or get_card(name)
    gates = {**card.tolerances, **opts.gates}
    out = check_output_folder(opts.out_dir or export_dir() / card.name, force=opts.force)  # before any work
    model, source = _net(name, card, opts)
    test = load_dataset(opts.data, "test", opts.data_dir, img_size=card.img_size,
                        in_chans=card.in_chans).subset(opts.parity_samples)
    card.check_fits(test)
    for note in test.notes:
        step(f"note: {note}")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with staged_folder(out, force=opts.force) as stage:
        made = _convert(name, model, card, source, stage, opts, step)
        seconds.update(convert=time.perf_counter() - t0, **made.seconds)

        step(f"parity on {len(test)} {test.name} test images")
        x = preprocess(test.images, card.mean, card.std)
        try:  # parity uses every core; opts.threads is for the latency runs
            report, fallback, optimized = _parity(_reference(model, name), made, stage, x, test, gates, opts,
                                                  target, step)
        finally:
            shutil.rmtree(stage / WORK_DIR, ignore_errors=True)  # onnx2tf's SavedModel, kept for the fallback
        manifest = build_manifest(card=card, source=source, calibration=made.calib_info, artifacts=made.artifacts,
                                  tflite_info=made.info, parity_data=_data_spec(opts),
                                  converted={**made.second.manifest_fields, **made.qdq_fields},
                                  converter_failures=made.second.failures)
        if fallback is not None:
            add_to_manifest(manifest, fallback)
        if optimized is not None:
            latency_mode.add_to_manifest(manifest, optimized)
        write_json(stage / "manifest.json", manifest)
        seconds["parity"] = time.perf_counter() - t0 - seconds["convert"]

        records: list[BenchRecord] = []
        if opts.bench:
            step(f"latency: {opts.bench_iters} timed runs per runtime, {opts.threads} thread(s)")
            records = _bench_all(name, model, made, opts)
        seconds["bench"] = time.perf_counter() - t0 - seconds["convert"] - seconds["parity"]
        write_json(stage / "parity.json", {"model": card.name, **report.to_dict(),
                                           "converter_failures": made.second.failures,
                                           "latency": [r.to_dict() for r in records], "seconds": seconds})
        summary = to_markdown(report, f"edgeflow parity: {card.name}")
        atomic_write(stage / "parity.md", lambda tmp: tmp.write_text(summary))
    return ExportResult(out, manifest, report, tuple(records), seconds)


def _parity(reference: Runner, made: "_Converted", stage: Path, x: np.ndarray, test, gates: dict[str, float],
            opts: ExportOptions, target, step: Step) -> tuple[ParityReport, dict | None, dict | None]:
    """Every runtime against the reference on ``x`` (``test``'s images, preprocessed); then, with
    ``--fallback auto``, the mixed model where full int8 missed its gate, and with ``--optimize latency``
    the model that runs fastest on ``target``. Returns the report and the two manifest records."""
    ref = run(reference, x)
    outputs = [run(c, x) for c in made.runners()]
    report = compare(ref, outputs, test.labels, gates=gates, data_sha256=test.sha256())
    fallback = optimized = None
    if opts.fallback == "auto":
        report, fallback = mend_int8(made, stage / WORK_DIR, stage, ref, outputs, x, test.labels, report,
                                     per_tensor=opts.per_tensor, step=step)
    if target is not None:
        report, optimized = latency_mode.optimize_latency(
            made, stage / WORK_DIR, stage, ref, x, test.labels, report, target=target,
            per_tensor=opts.per_tensor, threads=opts.threads, iters=min(opts.bench_iters, 100), step=step)
    return report, fallback, optimized


@dataclass
class _Converted:
    """Every file one export wrote, by stage: ONNX (absent when litert-torch is the only converter), the
    ONNX Runtime int8 model, onnx2tf's TFLite files, and the second converter's."""

    onnx: Artifact | None
    onnx_q: Artifact | None
    tflite: dict[Precision, Artifact]
    info: dict[Precision, dict]  # onnx2tf's files, read back (export.inspect)
    second: ConvertedFiles
    calib_info: dict | None
    seconds: dict[str, float]  # per converter: its conversion alone (after the shared ONNX and calibration)
    qdq_fields: dict[str, dict] = field(default_factory=dict)  # the QDQ file's activation type, as measured
    calib: np.ndarray | None = None  # the calibration inputs (NCHW), for the int8 fallback

    @property
    def artifacts(self) -> list[Artifact]:
        return [a for a in (self.onnx, self.onnx_q) if a] + [*self.tflite.values(), *self.second.files.values()]

    def runners(self) -> list[Runner]:
        found: list[Runner] = [OnnxRuntimeRunner(self.onnx.path)] if self.onnx else []
        if self.onnx_q:
            found.append(OnnxRuntimeRunner(self.onnx_q.path, precision="int8"))
        return found + [TFLiteRunner(a.path, p.value) for p, a in self.tflite.items()] + self.second.runners()


def _convert(name: str, model: torch.nn.Module | None, card: ModelCard, source: dict, stage: Path,
             opts: ExportOptions, step: Step) -> _Converted:
    with_onnx = "onnx2tf" in opts.converters  # litert-torch alone takes the PyTorch net directly
    onnx = _float_onnx(name, model, card, source, stage, step) if with_onnx else None
    precisions = list(dict.fromkeys((Precision.FP32, *opts.precisions)))
    calib, calib_info = (None, None)
    if Precision.INT8 in precisions or (opts.onnx_int8 and with_onnx):
        calib, calib_info = _calibration_set(card, opts)
    tflite, seconds, t0 = {}, {}, time.perf_counter()
    if with_onnx:
        step(f"convert to TFLite ({', '.join(p.value for p in precisions)})")
        tflite = export_tflite(onnx, stage, precisions, calib_nchw=calib, float_io=opts.float_io,
                               per_tensor=opts.per_tensor,
                               keep_saved_model=opts.fallback == "auto" or opts.optimize == "latency")
        seconds["convert_onnx2tf"] = time.perf_counter() - t0
    second, t0 = ConvertedFiles(), time.perf_counter()
    if "litert-torch" in opts.converters:
        second = convert_second(model, card, stage, precisions, calib, source.get("sha256"), alone=not with_onnx,
                                step=step)
        seconds["convert_litert-torch"] = time.perf_counter() - t0
    info = {p: inspect_tflite(a.path) for p, a in tflite.items()}
    if Precision.INT8 in info and not info[Precision.INT8]["fully_integer"]:
        raise EdgeflowError(f"the int8 TFLite file is not fully integer: {info[Precision.INT8]['tensor_dtypes']}")
    onnx_q, qdq_fields = _qdq_onnx(onnx, calib, stage, opts, step) if opts.onnx_int8 and with_onnx else (None, {})
    return _Converted(onnx, onnx_q, tflite, info, second, calib_info, seconds, qdq_fields, calib)


def _float_onnx(name: str, model: torch.nn.Module | None, card: ModelCard, source: dict, stage: Path,
                step: Step) -> Artifact:
    if model is None:  # an .onnx source: the pipeline starts at the ONNX stage
        step("import the ONNX model (onnxsim)")
        return import_onnx(Path(name), stage / ONNX_FILE, parent=source["definition_sha256"])
    step("export ONNX (onnxsim)")
    return export_onnx(model, card, stage / ONNX_FILE, parent=source.get("sha256"))


def _qdq_onnx(onnx: Artifact, calib: np.ndarray, stage: Path, opts: ExportOptions,
              step: Step) -> tuple[Artifact, dict]:
    """The ONNX Runtime int8 model, with int8 or uint8 activations, whichever ran faster here; and the
    manifest fields that record the choice."""
    step("quantize ONNX (onnxruntime static, QDQ int8; int8 vs uint8 activations timed)")
    onnx_q, choice = quantize_onnx_fastest(onnx, stage / QDQ_FILE, calib, per_tensor=opts.per_tensor,
                                           threads=opts.threads)
    if not inspect_onnx(onnx_q.path)["qdq_int8"]:
        raise EdgeflowError("the ONNX Runtime int8 model holds no int8 QDQ weights; refusing to call it int8")
    return onnx_q, {onnx_q.path.name: {"activations": choice.to_dict()}}


def _net(name: str, card: ModelCard, opts: ExportOptions) -> tuple[torch.nn.Module | None, dict]:
    """The net to export and its provenance: a live module (Python API), one ``load_model`` builds, or None
    for an .onnx file (which has no PyTorch net)."""
    if opts.module is not None:
        loaded = live_model(opts.module, card)
    elif opts.card is not None and name.endswith(".onnx"):
        return None, onnx_provenance(name, Path(name), checkpoint=opts.checkpoint, random_init=opts.random_init,
                                     exit=opts.exit)
    else:
        loaded = load_model(name, checkpoint=opts.checkpoint, random_init=opts.random_init, exit=opts.exit,
                            card=opts.card)
    return loaded.model, loaded.source


def _data_spec(opts: ExportOptions) -> dict:
    """The data parity ran on, as a later ``bench`` can find it again (folders as absolute paths)."""
    folder = Path(opts.data).expanduser()
    data = str(folder.resolve()) if folder.is_dir() else opts.data
    return {"data": data, "data_dir": str(opts.data_dir.expanduser().resolve()) if opts.data_dir else None}


def _reference(model: torch.nn.Module | None, onnx_source: str) -> Runner:
    """What every runtime is compared with: the PyTorch net, or for an .onnx source that file on ONNX Runtime."""
    if model is not None:
        return TorchRunner(model)
    runner = OnnxRuntimeRunner(Path(onnx_source))
    runner.name = REFERENCE_RUNTIME
    return runner


def _calibration_set(card: ModelCard, opts: ExportOptions) -> tuple[np.ndarray, dict]:
    """Preprocessed training images for int8 calibration, and what the manifest records of them."""
    if opts.calib_dir is not None:
        from edgeflow.data.folder import load_calibration_folder

        train = load_calibration_folder(opts.calib_dir.expanduser(), img_size=card.img_size,
                                        in_chans=card.in_chans).subset(opts.calib_samples)
    else:
        train = load_dataset(opts.data, "train", opts.data_dir, img_size=card.img_size,
                             in_chans=card.in_chans).subset(opts.calib_samples)
        card.check_fits(train)
    info = {"dataset": train.name, "split": "calib" if opts.calib_dir else "train", "count": len(train),
            "sha256": train.sha256(),
            "preprocessing": "same as training: x/255, (x - mean)/std", "read_notes": list(train.notes)}
    return preprocess(train.images, card.mean, card.std), info


def _bench_all(name: str, model: torch.nn.Module | None, made: _Converted, opts: ExportOptions) -> list[BenchRecord]:
    kw = {"threads": opts.threads, "iters": opts.bench_iters}
    records: list[BenchRecord] = []
    # a live module has no file to rebuild it from in the worker, an .onnx source no PyTorch net: no PyTorch row
    if opts.module is None and model is not None:
        records.append(_bench_pytorch(name, model, opts, kw))
    for artifact in (made.onnx, made.onnx_q):
        if artifact:
            records.append(benchmark(BenchSpec("onnxruntime", artifact.precision.value, artifact.path), **kw))
    records += [benchmark(BenchSpec("tflite", p.value, a.path), **kw) for p, a in made.tflite.items()]
    return records + made.second.bench(**kw)


def _bench_pytorch(name: str, model: torch.nn.Module, opts: ExportOptions, kw: dict) -> BenchRecord:
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "weights.pt"
        torch.save(model.state_dict(), weights)
        # the worker rebuilds the net from its name: it must deploy the same exit as the exported model
        spec = BenchSpec("pytorch", "fp32", weights, net=name, exit=opts.exit, card=opts.card)
        return benchmark(spec, **kw, model_bytes=weights.stat().st_size)
