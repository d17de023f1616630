"""Tables a person reads; the JSON files hold the same numbers for machines."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from edgeflow.check.latency import BenchRecord
from edgeflow.check.parity import ParityReport

# Off a terminal (CI logs, pipes) rich would wrap tables at 80 columns; give them room instead.
console = Console()
if not console.is_terminal:
    console = Console(width=160)


def parity_table(report: ParityReport, bench: tuple[BenchRecord, ...], sizes: dict[str, int]) -> Table:
    """One row per runtime × precision: parity vs the reference (PyTorch, or a source .onnx on ONNX Runtime),
    accuracy, latency, memory, size, gate."""
    lat = {(b.runtime, b.precision): b for b in bench}
    ref = "PyTorch" if report.reference.runtime == "pytorch" else report.reference.label
    t = Table(title=f"parity vs {ref} on {report.samples} images, latency single-image")
    for col in ("runtime", "precision", "max |Δ|", "cosine", "SQNR dB", "agree %", "top-1 %", "p50 ms", "p90 ms",
                "p99 ms", "peak RSS MB", "size KB", "gate"):
        t.add_column(col, justify="left" if col in ("runtime", "precision", "gate") else "right")
    for row in (report.reference, *report.rows):
        b = lat.get((row.runtime, row.precision))
        is_ref = row is report.reference
        t.add_row(
            row.runtime, row.precision,
            "ref" if is_ref else f"{row.max_abs_diff:.1e}",
            "ref" if is_ref else f"{row.cosine:.6f}",
            "ref" if is_ref else ("∞" if row.sqnr_db is None else f"{row.sqnr_db:.1f}"),
            "ref" if is_ref else f"{100 * row.agreement:.2f}",
            f"{100 * row.accuracy:.2f}",
            *(f"{v:.3f}" for v in (b.p50_ms, b.p90_ms, b.p99_ms)) if b else ("-", "-", "-"),
            f"{b.peak_rss_mb:.0f}" if b else "-",
            _size_kb(b.model_bytes if b else sizes.get(row.label)),
            "" if is_ref else _gate_cell(row, report.met_by.get(row.label)),
        )
    return t


def _gate_cell(row, met_by: str | None) -> str:
    if not row.failures:
        return "[green]ok[/green]"
    cell = "[red]FAIL: " + "; ".join(row.failures) + "[/red]"
    return cell + (f" [green](met by the fallback, {met_by})[/green]" if met_by else "")


def _size_kb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1024:.0f}"


def device_table(name: str, profile, rows, samples: int) -> Table:
    """One row per precision × thread count of a device bench (``workflows.device_bench.DeviceBenchRow``)."""
    emulated = bool(profile.extra.get("emulated"))
    kind = " — EMULATED: latency is qemu's, not a device's" if emulated else ""
    t = Table(title=f"{name} on {profile.name} ({profile.transport}){kind}, parity on {samples} images")
    lat_cols = ("emulated p50 ms", "emulated p99 ms") if emulated else ("p50 ms", "p90 ms", "p99 ms")
    cols = ("device", "arch", "precision", "threads", *lat_cols, "peak RSS MB", "size KB", "agree %",
            "top-1 %", *(("vs host (XNNPACK)",) if emulated else ()), "gate")
    for col in cols:
        t.add_column(col, justify="left" if col in ("device", "arch", "precision", "gate") else "right")
    for r in rows:
        lat = r.record["latency"]
        lats = [lat["p50_ms"], lat["p99_ms"]] if emulated else [lat["p50_ms"], lat["p90_ms"], lat["p99_ms"]]
        cross = [_cross_arch_cell(r.cross_arch)] if emulated else []
        t.add_row(r.device, r.record["arch"], r.precision, str(r.threads), *(f"{v:.3f}" for v in lats),
                  f"{r.record['peak_rss_mb']:.0f}", f"{r.record['model_bytes'] / 1024:.0f}",
                  f"{100 * r.parity.agreement:.2f}", f"{100 * r.parity.accuracy:.2f}", *cross,
                  "; ".join(r.failures) or "ok")
    return t


def _cross_arch_cell(c: dict | None) -> str:
    if not c:
        return "-"
    if c.get("bit_exact"):
        return "bit-exact"
    return f"{c['values_off']} values ≤{c['lsb_max']} LSB" if "lsb_max" in c else f"{c['max_abs_diff']:.1e}"
