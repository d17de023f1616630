"""HTML tables of the report. Every number cell carries the raw value (``data-value``) beside the shown text,
and every row its runtime/precision, so a test can read them back."""

from __future__ import annotations

import base64
from html import escape

from edgeflow.export.manifest import artifact_runtime


def cell(text: str, *, field: str = "", value=None, cls: str = "") -> str:
    attrs = f' data-field="{field}"' if field else ""
    attrs += f' data-value="{value!r}"' if value is not None else ""
    attrs += f' class="{cls}"' if cls else ""
    return f"<td{attrs}>{escape(str(text))}</td>"


def table(head: list[str], rows: list[str], cls: str = "") -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _gate_cell(failures, is_ref: bool, met_by: str | None = None) -> str:
    if is_ref:
        return cell("reference", field="gate", cls="ref")
    met = f" (met by the fallback, {met_by})" if met_by else ""  # export --fallback auto
    return cell("FAIL: " + "; ".join(failures) + met, field="gate", cls="fail") if failures else cell(
        "ok", field="gate", cls="pass")


def _fmt(v, spec: str, scale: float = 1.0) -> str:
    return "-" if v is None else format(scale * v, spec)


PARITY_HEAD = ["runtime", "precision", "max |Δ|", "cosine", "SQNR dB", "agree %", "top-1 %", "p50 ms", "p90 ms",
               "p99 ms", "peak RSS MB", "size KB", "gate"]


def parity_table(parity: dict, manifest: dict) -> str:
    """The parity table: one row per runtime × precision, the gate cell green (ok) or red (FAIL)."""
    lat = {(b["runtime"], b["precision"]): b for b in parity.get("latency", [])}
    sizes = {(artifact_runtime(a), a["precision"]): a["bytes"] for a in manifest.get("artifacts", [])}
    met_by = parity.get("met_by") or {}  # a failed row whose gate a fallback model meets (export --fallback auto)
    rows = []
    for row in (parity["reference"], *parity["rows"]):
        is_ref = row is parity["reference"]
        b = lat.get((row["runtime"], row["precision"]), {})
        size = b.get("model_bytes") or sizes.get((row["runtime"], row["precision"]))
        cells = [cell(row["runtime"], field="runtime"), cell(row["precision"], field="precision")]
        if is_ref:
            cells += [cell("ref") for _ in range(4)]
        else:
            sqnr = row["sqnr_db"]
            cells += [cell(f"{row['max_abs_diff']:.2e}", field="max_abs_diff", value=row["max_abs_diff"]),
                      cell(f"{row['cosine']:.6f}", field="cosine", value=row["cosine"]),
                      cell("∞" if sqnr is None else f"{sqnr:.1f}", field="sqnr_db", value=sqnr),
                      cell(f"{100 * row['agreement']:.2f}", field="agreement", value=row["agreement"])]
        cells.append(cell(f"{100 * row['accuracy']:.2f}", field="accuracy", value=row["accuracy"]))
        cells += [cell(_fmt(b.get(k), ".3f"), field=k, value=b.get(k)) for k in ("p50_ms", "p90_ms", "p99_ms")]
        cells += [cell(_fmt(b.get("peak_rss_mb"), ".0f"), field="peak_rss_mb", value=b.get("peak_rss_mb")),
                  cell(_fmt(size, ".0f", 1 / 1024), field="bytes", value=size),
                  _gate_cell(row["failures"], is_ref, met_by.get(f"{row['runtime']} {row['precision']}"))]
        rows.append(f'<tr data-runtime="{escape(row["runtime"])}" data-precision="{escape(row["precision"])}">'
                    f'{"".join(cells)}</tr>')
    return table(PARITY_HEAD, rows, "parity")


def bench_table(bench: list[dict]) -> str:
    """A device bench: one row per precision × thread count."""
    head = ["device", "arch", "precision", "threads", "p50 ms", "p90 ms", "p99 ms", "peak RSS MB", "agree %",
            "top-1 %", "gate"]
    rows = []
    for b in bench:
        for r in b.get("runs", []):
            lat, par = r["latency"], r["parity"]
            fails = list(par.get("failures") or []) + ([r["cross_arch"]["failure"]] if r.get("cross_arch") and
                                                        r["cross_arch"].get("failure") else [])
            cells = [cell(b["device"]), cell(r.get("arch", "?")), cell(b["precision"], field="precision"),
                     cell(r["threads"], field="threads", value=r["threads"]),
                     *(cell(f"{lat[k]:.3f}", field=k, value=lat[k]) for k in ("p50_ms", "p90_ms", "p99_ms")),
                     cell(_fmt(r.get("peak_rss_mb"), ".0f"), field="peak_rss_mb", value=r.get("peak_rss_mb")),
                     cell(f"{100 * par['agreement']:.2f}", field="agreement", value=par["agreement"]),
                     cell(f"{100 * par['accuracy']:.2f}", field="accuracy", value=par["accuracy"]),
                     _gate_cell(fails, False)]
            rows.append(f'<tr data-runtime="tflite" data-precision="{escape(b["precision"])}" '
                        f'data-threads="{r["threads"]}">{"".join(cells)}</tr>')
        for line in b.get("incomplete", []):
            rows.append(f'<tr><td colspan="{len(head)}" class="fail">incomplete: {escape(line)}</td></tr>')
    return table(head, rows, "parity")


def key_values(d: dict) -> str:
    """A two-column table of a flat dict (nested values shown as compact text)."""
    rows = [f"<tr><th>{escape(str(k))}</th>{cell(_text(v))}</tr>" for k, v in d.items()]
    return f'<table class="kv"><tbody>{"".join(rows)}</tbody></table>'


def _text(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_text(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v)
    return "-" if v is None else str(v)


def rows_table(rows: list[dict]) -> str:
    """A list of flat dicts (e.g. a per-op profile) as a table, columns from the first row."""
    head = list(rows[0]) if rows else []
    body = ["<tr>" + "".join(cell(_text(r.get(k))) for k in head) + "</tr>" for r in rows]
    return table(head, body)


def layers_table(rows: list[dict], top: int) -> str:
    head = ["#", "tensor (float ONNX)", "op", "local SQNR dB", "cumulative SQNR dB"]
    body = ["<tr>" + cell(i) + cell(r["tensor"]) + cell(r["op_type"]) + cell(f"{r['local_sqnr_db']:.1f}")
            + cell(_fmt(r.get("cumulative_sqnr_db"), ".1f")) + "</tr>" for i, r in enumerate(rows[:top], 1)]
    return table(head, body)


def img(png: bytes | None, alt: str) -> str:
    """A PNG embedded as a data URI ('' for no figure)."""
    if png is None:
        return ""
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
