"""Accuracy-aware fallback (``export --int8 --fallback auto``): when the full-int8 TFLite model misses its gate,
keep the fewest layers in float that make it hold.

Layers are tried worst first (``export.mixed.MixedQuantizer.ranked``); after each one the mixed model is run
on the parity images and checked by the parity engine under the int8 gates (renamed ``mixed_*``). Once the
gate holds, layers that turn out not to be needed are dropped again, one re-check each.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from edgeflow.check.parity import ParityReport, ParityRow, RunOutput, compare, run
from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.export.inspect import inspect_tflite
from edgeflow.export.mixed import LayerScore, MixedQuantizer
from edgeflow.export.tflite import FILE_NAMES
from edgeflow.runtimes.tflite_runner import TFLiteRunner

MAX_TRIES = 8  # layers tried in float before giving up; each try is one conversion and one parity run


FALLBACKS = ("none", "auto")
LOCALIZE_SAMPLES = 200  # images for naming the kept layers in ONNX terms (as `parity --layers`)


def check_fallback(fallback: str, precisions, converters) -> None:
    """Bad input before any work: an unknown mode, or ``auto`` without an onnx2tf int8 model to mend."""
    if fallback not in FALLBACKS:
        raise EdgeflowError(f"unknown --fallback {fallback!r}; use one of {', '.join(FALLBACKS)}")
    if fallback == "auto" and (Precision.INT8 not in precisions or "onnx2tf" not in converters):
        raise EdgeflowError("--fallback auto mends a full-int8 onnx2tf model: add --int8 (and keep the onnx2tf "
                            "converter)")


def mend_int8(made, saved_model: Path, out_dir: Path, ref: RunOutput, outputs: list[RunOutput], x: np.ndarray,
              labels: np.ndarray, report: ParityReport, *, per_tensor: bool,
              step: Callable[[str], None]) -> tuple[ParityReport, dict]:
    """Where the onnx2tf int8 row of ``report`` fails its gate, find a mixed model that meets it from
    onnx2tf's ``saved_model`` (written into ``out_dir``) and add its row to the report, which passes when it
    does (``met_by``). ``made``: the export's files (``workflows.export._Converted``; its ``tflite`` and
    ``info`` gain the mixed file). Returns the report and the manifest's ``fallback`` record."""
    int8_row = next(r for r in report.rows if r.runtime == TFLiteRunner.name and r.precision == Precision.INT8.value)
    if not int8_row.failures:
        step("fallback: full int8 meets its gate, no layer kept in float")
        return report, {"mode": "auto", "gate_met": True, "needed": False, "kept_float": []}
    step("fallback: full int8 misses its gate; ranking layers with the TF quantization debugger")
    try:
        quantizer = MixedQuantizer(saved_model, np.ascontiguousarray(made.calib.transpose(0, 2, 3, 1)),
                                   per_tensor=per_tensor)
        found = find_mixed(quantizer, out_dir / FILE_NAMES[Precision.MIXED], made.onnx.sha256, ref,
                           x, labels, report.gates, int8_row, step=step)
    except (OSError, EdgeflowError):
        raise
    except Exception as e:  # the debugger is experimental TF API: its failure is the fallback's, not the export's
        why = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        found = FallbackResult(False, None, None, message=f"the TF quantization debugger failed: {why}")
    step(f"fallback: {found.message}")
    if found.kept:
        names = onnx_names(made.onnx.path, made.tflite[Precision.INT8].path, x[:LOCALIZE_SAMPLES])
        found.kept = [{**k, **names.get(k["tensor"], {"onnx_tensor": None})} for k in found.kept]
    if found.artifact is None:
        return report, found.manifest(int8_row)
    made.tflite[Precision.MIXED] = found.artifact
    made.info[Precision.MIXED] = inspect_tflite(found.artifact.path)
    report = compare(ref, [*outputs, found.output], labels, gates={**report.gates, **mixed_gates(report.gates)},
                     data_sha256=report.data_sha256)
    if found.met:
        report = replace(report, met_by={int8_row.label: f"{TFLiteRunner.name} {Precision.MIXED.value}"})
    return report, found.manifest(int8_row)


def add_to_manifest(manifest: dict, fallback: dict) -> None:
    """The fallback's record at the top level, and on the mixed file's entry which layers it keeps float."""
    manifest["fallback"] = fallback
    for entry in manifest["artifacts"]:
        if entry["file"] == FILE_NAMES[Precision.MIXED]:
            entry.update(kept_float=fallback["kept_float"], gate_met=fallback["gate_met"])


def mixed_gates(gates: dict[str, float], precision: Precision = Precision.MIXED) -> dict[str, float]:
    """The int8 gates, under a partly-float model's precision (the fallback's mixed model, latency mode's
    model): it has to meet what full int8 has to."""
    return {f"{precision.value}_{k[len('int8_'):]}": v for k, v in gates.items() if k.startswith("int8_")}


@dataclass
class FallbackResult:
    met: bool
    artifact: Artifact | None  # model_mixed.tflite: the model that met the gate, else the last one tried
    output: RunOutput | None  # its logits on the parity images
    kept: list[dict] = field(default_factory=list)  # layers left in float, each with its measured effect
    tried: int = 0
    message: str = ""

    def manifest(self, int8_row: ParityRow) -> dict:
        return {"mode": "auto", "needed": True, "gate_met": self.met, "message": self.message,
                "layers_tried": self.tried, "int8_agreement": int8_row.agreement, "int8_accuracy": int8_row.accuracy,
                "int8_failures": list(int8_row.failures), "kept_float": self.kept}


class _Trial:
    """Builds the mixed model with a given float set and checks it with the parity engine."""

    def __init__(self, quantizer: MixedQuantizer, scratch: Path, reference: RunOutput, x: np.ndarray,
                 labels: np.ndarray, gates: dict[str, float]):
        self.quantizer, self.scratch, self.reference, self.x, self.labels = quantizer, scratch, reference, x, labels
        self.gates = mixed_gates(gates)

    def __call__(self, keep: list[LayerScore]) -> tuple[ParityRow, RunOutput, bytes]:
        model = self.quantizer.build([k.tensor for k in keep])
        self.scratch.write_bytes(model)
        output = run(TFLiteRunner(self.scratch, Precision.MIXED.value), self.x)
        return compare(self.reference, [output], self.labels, gates=self.gates).rows[0], output, model


def find_mixed(quantizer: MixedQuantizer, path: Path, parent_sha256: str | None, reference: RunOutput,
               x: np.ndarray, labels: np.ndarray, gates: dict[str, float], int8_row: ParityRow, *,
               max_tries: int = MAX_TRIES, step: Callable[[str], None] = lambda _: None) -> FallbackResult:
    """Greedy: add layers to the float set worst first until the gate holds (at most ``max_tries``), then
    drop each layer the gate also holds without. Writes ``path``: the model that met the gate, else
    the last one tried."""
    scratch = path.with_name(f".{path.name}.try")
    try:
        return _search(_Trial(quantizer, scratch, reference, x, labels, gates), path, parent_sha256, int8_row,
                       max_tries, step)
    finally:
        scratch.unlink(missing_ok=True)


def _search(trial: _Trial, path: Path, parent_sha256: str | None, int8_row: ParityRow, max_tries: int,
            step: Callable[[str], None]) -> FallbackResult:
    keep: list[LayerScore] = []
    row = None
    for layer in trial.quantizer.ranked()[:max_tries]:
        keep.append(layer)
        row, output, model = trial(keep)
        step(f"fallback: {len(keep)} layer(s) in float, +{layer.op} → agreement {100 * row.agreement:.2f} %"
             f"{'' if row.failures else ' (gate holds)'}")
        if not row.failures:
            break
    if row is None:
        return FallbackResult(False, None, None, message="the converter reported no quantized layer to keep float")
    tried = len(keep)
    if row.failures:
        path.write_bytes(model)
        kept = [layer.to_dict() for layer in keep]
        return FallbackResult(False, _artifact(path, parent_sha256), output, kept, tried,
                              f"no mixed model met the int8 gate with up to {tried} layer(s) in float "
                              f"({'; '.join(row.failures)})")
    withouts: dict[str, ParityRow] = {}
    for layer in list(keep):  # a layer added early may not have been needed after all (nor, then, the last)
        if len(keep) == 1:
            break  # none kept is full int8, which failed
        fewer = [k for k in keep if k is not layer]
        r, o, m = trial(fewer)
        if r.failures:
            withouts[layer.tensor] = r
        else:
            keep, row, output, model = fewer, r, o, m
            withouts.clear()  # measured against a larger set: no longer this model's effects
            step(f"fallback: the gate holds without {layer.op} {layer.tensor[:60]}: dropped")
    path.write_bytes(model)
    kept = [_effect(layer, row, _without(trial, keep, layer, withouts, int8_row)) for layer in keep]
    return FallbackResult(True, _artifact(path, parent_sha256), output, kept, tried,
                          f"{len(keep)} layer(s) kept in float meet the int8 gate: agreement "
                          f"{100 * row.agreement:.2f} % (full int8 {100 * int8_row.agreement:.2f} %)")


def _without(trial: _Trial, keep: list[LayerScore], layer: LayerScore, known: dict[str, ParityRow],
             int8_row: ParityRow) -> ParityRow:
    """The mixed model's row with ``layer`` quantized again (the others still float): its measured effect."""
    if len(keep) == 1:
        return int8_row
    if layer.tensor not in known:
        known[layer.tensor] = trial([k for k in keep if k is not layer])[0]
    return known[layer.tensor]


def _effect(layer: LayerScore, with_it: ParityRow, without_it: ParityRow) -> dict:
    return {**layer.to_dict(), "agreement_with": with_it.agreement, "agreement_without": without_it.agreement,
            "accuracy_with": with_it.accuracy, "accuracy_without": without_it.accuracy}


def onnx_names(float_onnx: Path, int8_tflite: Path, x: np.ndarray) -> dict[str, dict]:
    """The per-layer localisation's view of each TFLite conv, by its TFLite tensor name: the ONNX activation
    it matches (``check.localize.tflite_layer_errors``; a PyTorch export's ONNX names carry the module path)
    and its SQNRs. Only convs are matched; an unmatched graph gives {} (names are a help, not a need)."""
    from edgeflow.check.localize import tflite_layer_errors

    try:
        rows = tflite_layer_errors(float_onnx, int8_tflite, x)
    except EdgeflowError:
        return {}
    return {r.tflite_tensor: {"onnx_tensor": r.tensor, "local_sqnr_db": r.local_sqnr_db,
                              "cumulative_sqnr_db": r.cumulative_sqnr_db} for r in rows if r.tflite_tensor}


def _artifact(path: Path, parent_sha256: str | None) -> Artifact:
    return Artifact.of(path, "tflite", Precision.MIXED, parent_sha256)
