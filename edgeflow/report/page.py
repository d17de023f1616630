"""The report page: sections (one per export, parity or bench folder) rendered into one self-contained HTML
file: inline CSS, figures as ``data:image/png;base64`` URIs, no script, no link to anything outside it."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path

from edgeflow.files import atomic_write
from edgeflow.report import figures, tables
from edgeflow.report.collect import Section
from edgeflow.report.history_part import history_html

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d2430;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccd;padding-bottom:4px;margin-top:36px}
h3{font-size:15px;margin-top:22px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #d6dae3;padding:3px 8px;text-align:right}th{background:#eef1f6}
td:first-child,td:nth-child(2),.kv td,.kv th,.parity td:last-child,.hist td{text-align:left}
.pass{background:#d9f2dd;color:#135c22}.fail{background:#fbdcdc;color:#8a1414;text-align:left}
.ref{color:#666;text-align:left}.badge{padding:2px 8px;border-radius:4px;font-size:13px;margin-left:8px}
img{max-width:100%;border:1px solid #e3e6ec;margin:6px 0}.muted{color:#667;font-size:13px}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.figs figure{margin:0;max-width:500px}
figcaption{font-weight:600;font-size:15px;margin:14px 0 4px}
"""


_img = tables.img


def _figure(caption: str, png: bytes | None, missing: str) -> str:
    body = _img(png, caption.lower()) or f'<p class="muted">{escape(missing)}</p>'
    return f"<figure><figcaption>{escape(caption)}</figcaption>{body}</figure>"


def _badge(passed: bool) -> str:
    return f'<span class="badge {"pass" if passed else "fail"}">{"PASS" if passed else "FAIL"}</span>'


def _export_body(s: Section) -> list[str]:
    p = s.parity
    out = [f'<p class="muted">{p["samples"]} test images (sha256 {escape(p.get("data_sha256", "")[:16])}…); '
           f'reference {escape(p["reference"]["runtime"])} {escape(p["reference"]["precision"])}; gates: '
           f'{escape(", ".join(f"{k} {v:g}" for k, v in p.get("gates", {}).items()))}</p>',
           "<h3>Parity vs the reference</h3>", tables.parity_table(p, s.manifest)]
    return out


def _bench_body(s: Section) -> list[str]:
    first = next((r for b in s.bench for r in b.get("runs", [])), {})
    b0 = s.bench[0]
    note = " EMULATED: latency is qemu's, not a device's." if b0.get("emulated") else ""
    return [f'<p class="muted">{b0.get("samples")} test images on {escape(s.device)} ({escape(b0.get("transport", ""))})'
            f'.{escape(note)}</p>', "<h3>Latency and parity per precision × threads</h3>",
            tables.bench_table(s.bench), "<h3>Device</h3>",
            tables.key_values({k: first.get(k) for k in ("arch", "os", "python", "interpreter",
                                                         "interpreter_version", "numpy")}
                              | {"fingerprint": _fingerprint(s), "artifact sha256":
                                 {b["precision"]: b.get("artifact_sha256") for b in s.bench}})]


def _fingerprint(s: Section) -> str:
    from edgeflow.history.runs import fingerprint, host_facts

    if s.kind != "bench":
        saved = s.host or {}
        facts, when = (saved["host"], "measured on") if isinstance(saved.get("host"), dict) else (
            host_facts(), "host.json missing; this host, at report time")
        return f"{fingerprint(facts)} ({when}: {', '.join(f'{k} {v}' for k, v in facts.items())})"
    first = next((r for b in s.bench for r in b.get("runs", [])), {})
    facts = {k: first.get(k) for k in ("arch", "os", "python", "interpreter", "interpreter_version")}
    return fingerprint({**facts, "device": s.device})


def _manifest(s: Section) -> list[str]:
    m = s.manifest
    if not m:
        return []
    arts = [{"file": a["file"], "format": a["format"], "precision": a["precision"], "bytes": a["bytes"],
             "sha256": a["sha256"]} for a in m.get("artifacts", [])]
    return ["<h3>Manifest</h3>", tables.key_values({"model": m.get("model"), "created (UTC)": m.get("created_utc"),
                                                    "device fingerprint": _fingerprint(s),
                                                    "git commit": (s.host or {}).get("git_commit")}),
            "<h4>Source</h4>", tables.key_values(m.get("source", {})),
            "<h4>Calibration</h4>", tables.key_values(m.get("calibration") or {"calibration": "none (no int8)"}),
            "<h4>Artifacts</h4>", tables.rows_table(arts), *_fallback(m.get("fallback") or {}),
            *_latency_mode(m.get("optimize") or {}),
            "<h4>Tool versions</h4>", tables.key_values(m.get("tools", {}))]


def _fallback(fb: dict) -> list[str]:
    """``export --fallback auto``: the layers model_mixed.tflite keeps in float, each with its measured effect."""
    if not fb.get("needed"):
        return []

    def pct(k: dict, key: str) -> str:
        return f"{100 * k[key]:.2f}" if key in k else "-"

    rows = [{"op": k["op"], "ONNX activation": k.get("onnx_tensor") or "-", "TFLite tensor": k["tensor"],
             "error (int8 steps)": f"{k['rmse_per_scale']:.2f}", "agree % without": pct(k, "agreement_without"),
             "agree % with": pct(k, "agreement_with")} for k in fb.get("kept_float", [])]
    title = "kept in float" if fb.get("gate_met") else "tried in float"
    return [f"<h4>Int8 fallback: layers {title}</h4>", f"<p>{escape(fb.get('message', ''))}</p>",
            *([tables.rows_table(rows)] if rows else [])]


def _latency_mode(opt: dict) -> list[str]:
    """``export --optimize latency``: the op types slower in int8 on the target, and each candidate's time."""
    if not opt:
        return []
    slow = [{"op type": r["type"], "int8 / fp32 time": f"{r['int8_over_fp32']:.2f}×"}
            for r in opt.get("slower_in_int8", [])]
    cands = [{"kept in float": " + ".join(c["float_ops"]), "median µs": f"{c['median_us']:.0f}",
              "× full int8": f"{c['speedup_vs_int8']:.2f}", "× fp32": f"{c['speedup_vs_fp32']:.2f}"}
             for c in opt.get("candidates", [])]
    return [f"<h4>Latency mode on {escape(str(opt.get('target')))}</h4>", f"<p>{escape(opt.get('message', ''))}</p>",
            *([tables.rows_table(slow)] if slow else []), *([tables.rows_table(cands)] if cands else [])]


def section_html(s: Section, history: Path | None = None) -> str:
    """One section: its table, figures, per-layer error, per-op profile and manifest."""
    parts = [f'<h2 id="{escape(s.folder.name)}">{escape(s.title)}{_badge(s.passed)}</h2>',
             f'<p class="muted">from {escape(s.folder.name)}/</p>']
    parts += _export_body(s) if s.parity is not None else _bench_body(s)
    figs = []
    if s.parity is not None:
        figs.append(_figure("Accuracy vs size", figures.accuracy_size_png(s.parity, s.manifest, f"{s.model}: top-1 "
                                                                          "vs size"), "no artifact sizes (no manifest)"))
    figs.append(_figure("Latency distribution", figures.latency_png(s.latency(), f"{s.model} on {s.device}"),
                        "latency not measured in this run"))
    parts.append(f'<div class="figs">{"".join(figs)}</div>')
    if s.layers:
        rows = {k: v for k, v in s.layers.items() if isinstance(v, list)}
        parts += [f"<h3>Per-layer int8 error ({s.layers.get('samples')} images)</h3>",
                  _img(figures.layers_png(rows, "worst layers by local SQNR"), "per-layer int8 error")]
        parts += [f"<h4>{escape(k)}</h4>" + tables.layers_table(v, figures.TOP_LAYERS) for k, v in rows.items()]
    parts.append(history_html(s, history))
    parts += ["<h3>Per-op profile</h3>", tables.rows_table(s.profile) if s.profile else
              '<p class="muted">not measured for this run</p>']
    return "\n".join(parts + _manifest(s))


def render(sections: list[Section], title: str, history: Path | None = None) -> str:
    """The whole page."""
    from edgeflow import __version__ as version

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>{escape(title)}</h1>", f'<p class="muted">edgeflow {escape(version)}, {stamp}</p>']
    if len(sections) > 1:
        body += ["<h2>Overview</h2>", tables.table(["net", "kind", "device", "verdict"], [
            f"<tr>{tables.cell(s.model)}{tables.cell(s.kind)}{tables.cell(s.device)}"
            f"{tables.cell('PASS' if s.passed else 'FAIL', cls='pass' if s.passed else 'fail')}</tr>"
            for s in sections])]
        series = {f"{s.model} @ {s.device} ({s.kind})": {e["label"]: e["p50_ms"] for e in s.latency()}
                  for s in sections}
        body.append(_img(figures.latency_across_png(series, "p50 latency across nets and devices"), "latency across"))
    body += [section_html(s, history) for s in sections]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(sections: list[Section], out: Path, title: str | None = None, *,
                 history: Path | None = None) -> Path:
    """Render and write ``out`` atomically."""
    title = title or ("edgeflow report: " + (sections[0].title if len(sections) == 1 else f"{len(sections)} results"))
    html = render(sections, title, history)
    atomic_write(out, lambda tmp: tmp.write_text(html, encoding="utf-8"))
    return out
