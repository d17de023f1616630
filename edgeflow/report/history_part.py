"""The report's history section: this net's recorded runs on the same device (the trend) and how the run in
this folder compares with the runs before it (``history.regress``, the test of ``edgeflow history --check``)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from edgeflow.errors import EdgeflowError
from edgeflow.history import db
from edgeflow.history.regress import check_newest
from edgeflow.history.trend import trend_png
from edgeflow.report import tables
from edgeflow.report.collect import Section


def _same_timing(run: dict, s: Section) -> bool:
    return (run["kind"] == "bench") == (s.kind == "bench")


def history_html(s: Section, path: Path | None = None) -> str:
    """The section's history, or a line saying why there is none (never an error: the results come first)."""
    path = path or db.default_path()
    try:
        runs = [r for r in db.load_runs(path, s.model, s.device) if _same_timing(r, s)] if path.is_file() else []
    except EdgeflowError as e:
        return f'<h3>History</h3><p class="muted">history unavailable: {escape(str(e))}</p>'
    mine = [i for i, r in enumerate(runs) if r["source"] == str(s.folder)]
    if mine:
        runs = runs[:mine[-1] + 1]  # this folder's run is the newest compared
    if len(runs) < 2:
        return (f'<h3>History</h3><p class="muted">{len(runs)} recorded run(s) of {escape(s.model)} on '
                f"{escape(s.device)}: no trend yet</p>")
    rows = []
    for f in check_newest(runs):
        verdict = tables.cell(("REGRESSION: " if f.regression else "ok: ") + f.why, field="verdict",
                              cls="fail" if f.regression else "pass")
        rows.append(f"<tr>{tables.cell(f.series)}{tables.cell(f.what)}{tables.cell(f'{f.newest:.4g}')}"
                    f"{tables.cell(f.baseline)}{verdict}</tr>")
    png = trend_png(runs, f"{s.model} on {s.device}: {len(runs)} runs")
    whose = "this run" if mine else "the newest recorded run"
    return "\n".join([f"<h3>History ({len(runs)} runs on {escape(s.device)})</h3>",
                      f'<p class="muted">{whose} vs the earlier ones (the test of `edgeflow history --check`)</p>',
                      tables.table(["series", "measure", "newest", "earlier runs", "verdict"], rows, "hist"),
                      tables.img(png, "history trend")])
