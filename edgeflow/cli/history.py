"""``edgeflow history``: the trend of a net's runs, and ``--check`` for a regression of the newest run."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Optional

import typer

HistoryPath = Annotated[Optional[Path], typer.Option(
    "--history", help="The history database [default: $EDGEFLOW_HISTORY, else $XDG_CACHE_HOME/edgeflow/"
                      "history.sqlite, ~/.cache without XDG_CACHE_HOME].")]


def history_option(history: HistoryPath = None) -> None:
    """Export PyTorch image classifiers to ONNX/TFLite, quantize them, and prove they still work."""
    if history is not None:  # every command that records a run reads it from here
        os.environ["EDGEFLOW_HISTORY"] = str(history)


def history(
    name: Annotated[Optional[str], typer.Argument(help="The net (as recorded: zoo name or your net's name). "
                                                       "Optional with --check (then every net).")] = None,
    device: Annotated[Optional[str], typer.Option(help="Only runs on this device (export/parity runs are "
                                                       "`local`).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Compare the newest run with the earlier ones on the "
                                                        "same device; exit 1 on a regression.")] = False,
    history: HistoryPath = None,
    last: Annotated[int, typer.Option(min=1, help="How many of the newest runs the table shows.")] = 20,
    plot: Annotated[Optional[Path], typer.Option(help="Trend plot [default: export/NAME.history.png].")] = None,
    alpha: Annotated[float, typer.Option(min=1e-6, max=0.5, help="Latency test level (one-sided).")] = 0.01,
    min_slowdown: Annotated[float, typer.Option(min=0.0, help="Latency: the least slowdown (fraction of the "
                                                              "earlier mean) that counts.")] = 0.05,
) -> None:
    """Show how NAME did run after run (table + plot), or with --check whether the newest run regressed.

    Every export, parity and bench appends its measurements (with git commit, tool versions, device and a
    machine fingerprint) to one SQLite file.

    --check, per net, device and way of timing (host: export/parity; bench), for every runtime × precision ×
    threads of the newest run. Latency: a
    one-sided Student-t prediction interval on the earlier runs' p50 latencies (n >= 2 runs, mean m,
    standard deviation s): the newest p50 is a regression when it is above m + t(1 - alpha, n - 1) * s *
    sqrt(1 + 1/n) and at least --min-slowdown above m. Accuracy: a top-1 drop beyond the card's gate for that
    precision (vs the reference in the same run, or vs the median of the earlier runs) is always a
    regression. Exit 0 none, 1 a regression (named), 2 bad input or a database that is not edgeflow's.
    """
    from edgeflow.cli.tables import console
    from edgeflow.errors import EdgeflowError, GateFailure
    from edgeflow.history import db

    path = history or db.default_path()
    if not check and not name:
        raise EdgeflowError("name the net: `edgeflow history NAME` (or `edgeflow history --check` for every net)")
    runs = db.load_runs(path, name, device)
    if not runs:
        raise EdgeflowError(f"no runs of {name or 'any net'}{f' on {device}' if device else ''} in {path}")
    if check:
        from edgeflow.history.regress import check_all

        findings = check_all(runs, alpha=alpha, min_slowdown=min_slowdown)
        console.print(_findings_table(findings, path))
        bad = [f"{f.model} on {f.device}, {f.series} {f.what}: {f.why}" for f in findings if f.regression]
        if bad:
            raise GateFailure("; ".join(bad))
        console.print(f"[green]no regression[/green] in the newest run of {len({(r['model'], r['device']) for r in runs})} "
                      "net × device pair(s)")
        return
    from edgeflow.history.trend import trend_plot
    from edgeflow.paths import export_dir

    console.print(_runs_table(runs[-last:], name, path))
    safe = re.sub(r"[^\w.-]+", "_", name)  # a user's net is recorded as its spec, e.g. path/to/net.py:build
    out = trend_plot(runs, plot or export_dir() / f"{safe}.history.png", f"{name}: {len(runs)} runs")
    console.print(f"wrote {out}")


def _runs_table(runs: list[dict], name: str, path: Path):
    from rich.table import Table

    from edgeflow.history.trend import series_label

    labels = list(dict.fromkeys(series_label(r, m) for r in runs for m in r["measurements"]))
    t = Table(title=f"{name}: last {len(runs)} runs in {path} (p50 ms / top-1 %)")
    for col in ("id", "UTC", "kind", "device", "fingerprint", "commit", "gates", *labels):
        t.add_column(col, justify="right" if col in labels or col == "id" else "left")
    for r in runs:
        cells = {series_label(r, m): f"{m['p50_ms']:.3f} / " if m["p50_ms"] is not None else "- / " for m in
                 r["measurements"]}
        for m in r["measurements"]:
            cells[series_label(r, m)] += "-" if m["accuracy"] is None else f"{100 * m['accuracy']:.2f}"
        t.add_row(str(r["id"]), r["created_utc"], r["kind"], r["device"], r["fingerprint"][:8],
                  (r["git_commit"] or "-")[:12], "[green]pass[/green]" if r["passed"] else "[red]FAIL[/red]",
                  *(cells.get(label, "") for label in labels))
    return t


def _findings_table(findings, path: Path):
    from rich.table import Table

    t = Table(title=f"newest run vs the earlier ones ({path})")
    for col in ("net", "device", "series", "measure", "newest", "earlier runs", "verdict"):
        t.add_column(col, justify="right" if col == "newest" else "left")
    for f in findings:
        verdict = f"[red]REGRESSION: {f.why}[/red]" if f.regression else f"[green]ok[/green]: {f.why}"
        t.add_row(f.model, f.device, f.series, f.what, f"{f.newest:.4g}", f.baseline, verdict)
    return t
