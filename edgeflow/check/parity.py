"""Parity: run the same inputs through several runners (``run``), then compare each with a reference
(``compare``); ``check_parity`` does both."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from edgeflow.errors import EdgeflowError
from edgeflow.runtimes.base import Runner


@dataclass(frozen=True)
class ParityRow:
    runtime: str
    precision: str
    max_abs_diff: float
    mean_abs_diff: float
    cosine: float
    sqnr_db: float | None  # 10·log10(Σ ref² / Σ (ref − y)²) over all logits; None when identical
    agreement: float  # fraction of samples with the reference's top-1
    accuracy: float  # top-1 vs labels
    max_abs_logit: float  # the scale of this runtime's logits; the reference's sets the relative gate
    failures: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.runtime} {self.precision}"


@dataclass(frozen=True)
class ParityReport:
    samples: int
    data_sha256: str
    reference: ParityRow
    rows: tuple[ParityRow, ...]
    gates: dict[str, float] = field(default_factory=dict)
    # a failed row's label → the row of a fallback model that meets the same gate (export --fallback auto):
    # the failure stays in the row, but the export as a whole passes
    met_by: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        ok = {r.label for r in self.rows if not r.failures}
        return not any(r.failures and self.met_by.get(r.label) not in ok for r in self.rows)

    def failures(self) -> list[str]:
        return [f"{r.label}: {f}" for r in self.rows for f in r.failures]

    def to_dict(self) -> dict:
        return {"samples": self.samples, "data_sha256": self.data_sha256, "gates": self.gates,
                "passed": bool(self), "met_by": self.met_by, "reference": asdict(self.reference),
                "rows": [asdict(r) for r in self.rows]}


def _compare(runtime: str, precision: str, y: np.ndarray, ref: np.ndarray, labels: np.ndarray) -> ParityRow:
    if y.shape != ref.shape:
        raise EdgeflowError(f"{runtime} {precision} returned logits of shape {y.shape}, reference {ref.shape}")
    if not np.isfinite(y).all():
        raise EdgeflowError(f"{runtime} {precision} produced NaN or infinite logits")
    diff = np.abs(y.astype(np.float64) - ref)
    num = (y * ref).sum(1)
    den = np.linalg.norm(y, axis=1) * np.linalg.norm(ref, axis=1)
    cosine = float(np.mean(num / np.maximum(den, 1e-12)))
    noise = float((diff**2).sum())
    sqnr = None if noise == 0 else float(10 * np.log10((ref**2).sum() / noise))
    return ParityRow(runtime, precision, float(diff.max()), float(diff.mean()), cosine, sqnr,
                     float((y.argmax(1) == ref.argmax(1)).mean()), float((y.argmax(1) == labels).mean()),
                     float(np.abs(y).max()))


def max_diff_bound(gates: dict[str, float], precision: str, ref_max_abs_logit: float) -> float | None:
    """``<precision>_max_abs_diff + <precision>_max_rel_diff · max |reference logit|`` (None: no such gate).
    The relative part is there because float rounding grows with the logits: a net whose logits reach ±150
    differs by ~10x more than one at ±15 through the same kernels."""
    if f"{precision}_max_abs_diff" not in gates:
        return None
    return gates[f"{precision}_max_abs_diff"] + gates.get(f"{precision}_max_rel_diff", 0.0) * ref_max_abs_logit


def _gate(row: ParityRow, ref: ParityRow, gates: dict[str, float]) -> ParityRow:
    """Apply the gates of the row's precision: ``<precision>_max_abs_diff`` (+ ``_max_rel_diff``, see
    ``max_diff_bound``), ``<precision>_min_agreement``, ``<precision>_max_accuracy_drop_pp`` (each only where
    the gates define it)."""
    failures = []
    p = row.precision
    bound = max_diff_bound(gates, p, ref.max_abs_logit)
    if bound is not None and row.max_abs_diff > bound:
        failures.append(f"max abs diff {row.max_abs_diff:.2e} > {bound:.2e}")
    if f"{p}_min_agreement" in gates and row.agreement < gates[f"{p}_min_agreement"]:
        failures.append(f"top-1 agreement {100 * row.agreement:.2f} % < {100 * gates[f'{p}_min_agreement']:.2f} %")
    drop = 100 * (ref.accuracy - row.accuracy)
    # 1e-9: 100·(1 − 0.99) is 1.0000000000000009
    if f"{p}_max_accuracy_drop_pp" in gates and drop > gates[f"{p}_max_accuracy_drop_pp"] + 1e-9:
        failures.append(f"accuracy drop {drop:.2f} pp > {gates[f'{p}_max_accuracy_drop_pp']} pp")
    return ParityRow(**{**asdict(row), "failures": tuple(failures)})


@dataclass(frozen=True)
class RunOutput:
    """What one runner produced on the inputs: its logits, labelled by runtime and precision."""

    runtime: str
    precision: str
    logits: np.ndarray


def run(runner: Runner, x: np.ndarray) -> RunOutput:
    """Run ``x`` (NCHW float) through ``runner`` (opened and closed here)."""
    with runner:
        return RunOutput(runner.name, runner.precision, runner.infer_all(x))


def compare(reference: RunOutput, outputs: list[RunOutput], labels: np.ndarray, *, gates: dict[str, float],
            data_sha256: str = "") -> ParityReport:
    """Compare every output with the reference's logits and apply ``gates`` (one row per output)."""
    if len(reference.logits) == 0:
        raise EdgeflowError("parity needs at least one input sample")
    ref = reference.logits.astype(np.float64)
    ref_row = _compare(reference.runtime, reference.precision, ref.astype(np.float32), ref, labels)
    rows = tuple(_gate(_compare(o.runtime, o.precision, o.logits, ref, labels), ref_row, gates) for o in outputs)
    return ParityReport(len(ref), data_sha256, ref_row, rows, dict(gates))


def check_parity(reference: Runner, candidates: list[Runner], x: np.ndarray, labels: np.ndarray, *,
                 gates: dict[str, float], data_sha256: str = "") -> ParityReport:
    """Run ``x`` (NCHW float) through every runner, then compare each with ``reference`` under ``gates``."""
    if len(x) == 0:
        raise EdgeflowError("parity needs at least one input sample")
    return compare(run(reference, x), [run(c, x) for c in candidates], labels, gates=gates,
                   data_sha256=data_sha256)


def to_markdown(report: ParityReport, title: str) -> str:
    """A Markdown summary (for a CI job summary): one row per runtime, the gate verdict last."""
    lines = [f"### {title}", "", f"{report.samples} samples; reference {report.reference.label}, top-1 "
             f"{100 * report.reference.accuracy:.2f} %. **{'PASS' if report else 'FAIL'}**", "",
             "| runtime | precision | max abs diff | cosine | SQNR dB | agreement % | top-1 % | gate |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report.rows:
        sqnr = "∞" if r.sqnr_db is None else f"{r.sqnr_db:.1f}"
        gate = "ok" if not r.failures else "FAIL: " + "; ".join(r.failures)
        if r.failures and r.label in report.met_by:
            gate += f" (met by the fallback, {report.met_by[r.label]})"
        lines.append(f"| {r.runtime} | {r.precision} | {r.max_abs_diff:.2e} | {r.cosine:.6f} | {sqnr} | "
                     f"{100 * r.agreement:.2f} | {100 * r.accuracy:.2f} | {gate} |")
    return "\n".join(lines) + "\n"
