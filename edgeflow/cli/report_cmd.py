"""``edgeflow report``: rebuild the HTML report from result files, one net or several on one page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def report(
    paths: Annotated[list[Path], typer.Argument(help="Result folders (or files in them): export/NAME, "
                                                     "export/NAME.parity, a bench run folder, or "
                                                     "export/NAME.bench (its newest run per device).")],
    out: Annotated[Optional[Path], typer.Option(help="The HTML file [default: report.html beside the results "
                                                     "of a single folder; export/report.html for several].")] = None,
    title: Annotated[Optional[str], typer.Option(help="Page title.")] = None,
) -> None:
    """Write one self-contained HTML report (no network needed to open it) from edgeflow's result files.

    Per result: the parity table with the gates coloured, accuracy vs size, the latency distribution per
    runtime (and device), the per-layer int8 error (parity --layers), the per-op profile where measured, and
    the manifest (source, hashes, tool versions, device fingerprint). Several paths: one page with an
    overview and the latency of every net and device side by side.
    """
    from edgeflow.cli.tables import console
    from edgeflow.errors import EdgeflowError
    from edgeflow.files import protected_reason
    from edgeflow.paths import export_dir
    from edgeflow.report.collect import load_sections
    from edgeflow.report.page import write_report

    sections = load_sections(paths)
    if out is None:
        out = sections[0].folder / "report.html" if len(sections) == 1 else export_dir() / "report.html"
    out = out.expanduser().absolute()
    if out.is_dir() or protected_reason(out):
        raise EdgeflowError(f"--out {out} is a folder or a protected place; pass a file name, e.g. report.html")
    if not out.parent.is_dir():
        raise EdgeflowError(f"--out {out}: its folder does not exist")
    console.print(f"wrote {write_report(sections, out, title)} ({len(sections)} result(s))")
