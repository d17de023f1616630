"""The one call a finished run makes: write ``report.html`` beside its results and append it to the history.
Neither may cost the run its results: a failure of either is returned as a one-line warning."""

from __future__ import annotations

from pathlib import Path

from edgeflow.errors import EdgeflowError
from edgeflow.history import db, runs
from edgeflow.report.collect import load_section
from edgeflow.report.page import write_report

REPORT_FILE = "report.html"


def finish_run(folder: Path, kind: str | None = None, *, history: Path | None = None) -> list[str]:
    """Write ``folder``/host.json (export/parity: the machine and commit) and report.html, and append the run
    to the history database; returns warnings."""
    warnings = []
    path = history or db.default_path()
    try:  # first, so that the report's history section holds this run
        if (folder / "parity.json").is_file():  # a bench's PRECISION.json already names its device
            runs.write_host_facts(folder)
        run, measurements = runs.from_folder(folder, kind)
        db.append_run(path, run, measurements)
    except (EdgeflowError, OSError) as e:
        warnings.append(f"run not added to the history ({path}): {e}")
    try:
        write_report([load_section(folder)], folder / REPORT_FILE, history=path)
    except Exception as e:  # noqa: BLE001 (the results are written; a report failure must not hide them)
        warnings.append(f"report.html not written: {type(e).__name__}: {e}")
    return warnings
