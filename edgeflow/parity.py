"""Parity: run the same inputs through several runners and compare each with a reference."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from edgeflow.errors import EdgeflowError
from edgeflow.runtimes.base import Runner

FLOAT_EXACT = ("fp32",)  # precisions held to the fp32 gates


@dataclass(frozen=True)
class ParityRow:
    runtime: str
    precision: str
    max_abs_diff: float
    mean_abs_diff: float
    cosine: float
    agreement: float  # fraction of samples with the reference's top-1
    accuracy: float  # top-1 vs labels
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

    def __bool__(self) -> bool:
        return not any(r.failures for r in self.rows)

    def failures(self) -> list[str]:
        return [f"{r.label}: {f}" for r in self.rows for f in r.failures]

    def to_dict(self) -> dict:
        return {"samples": self.samples, "data_sha256": self.data_sha256, "gates": self.gates,
                "passed": bool(self), "reference": asdict(self.reference), "rows": [asdict(r) for r in self.rows]}


def _compare(runtime: str, precision: str, y: np.ndarray, ref: np.ndarray, labels: np.ndarray) -> ParityRow:
    if y.shape != ref.shape:
        raise EdgeflowError(f"{runtime} {precision} returned logits of shape {y.shape}, reference {ref.shape}")
    if not np.isfinite(y).all():
        raise EdgeflowError(f"{runtime} {precision} produced NaN or infinite logits")
    diff = np.abs(y.astype(np.float64) - ref)
    num = (y * ref).sum(1)
    den = np.linalg.norm(y, axis=1) * np.linalg.norm(ref, axis=1)
    cosine = float(np.mean(num / np.maximum(den, 1e-12)))
    return ParityRow(runtime, precision, float(diff.max()), float(diff.mean()), cosine,
                     float((y.argmax(1) == ref.argmax(1)).mean()), float((y.argmax(1) == labels).mean()))


def _gate(row: ParityRow, ref: ParityRow, gates: dict[str, float]) -> ParityRow:
    failures = []
    if row.precision in FLOAT_EXACT:
        if row.max_abs_diff > gates["fp32_max_abs_diff"]:
            failures.append(f"max abs diff {row.max_abs_diff:.2e} > {gates['fp32_max_abs_diff']:.0e}")
        if row.agreement < gates["fp32_min_agreement"]:
            failures.append(f"top-1 agreement {100 * row.agreement:.2f} % < "
                            f"{100 * gates['fp32_min_agreement']:.2f} %")
    elif row.precision == "int8":
        drop = 100 * (ref.accuracy - row.accuracy)
        if drop > gates["int8_max_accuracy_drop_pp"] + 1e-9:  # 1e-9: 100·(1 − 0.99) is 1.0000000000000009
            failures.append(f"accuracy drop {drop:.2f} pp > {gates['int8_max_accuracy_drop_pp']} pp")
    return ParityRow(**{**asdict(row), "failures": tuple(failures)})


def check_parity(reference: Runner, candidates: list[Runner], x: np.ndarray, labels: np.ndarray, *,
                 gates: dict[str, float], data_sha256: str = "") -> ParityReport:
    """Run ``x`` (NCHW float) through every runner; compare logits with ``reference`` and apply ``gates``."""
    if len(x) == 0:
        raise EdgeflowError("parity needs at least one input sample")
    with reference:
        ref = reference.infer_all(x).astype(np.float64)
    ref_row = _compare(reference.name, reference.precision, ref.astype(np.float32), ref, labels)
    rows = []
    for runner in candidates:
        with runner:
            y = runner.infer_all(x)
        rows.append(_gate(_compare(runner.name, runner.precision, y, ref, labels), ref_row, gates))
    return ParityReport(len(x), data_sha256, ref_row, tuple(rows), dict(gates))
