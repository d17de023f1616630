"""The files of a run folder besides the state: metrics.jsonl, curve.png, and how the run was started."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from edgeflow.files import atomic_write


def default_run_dir(out: Path) -> Path:
    """``models/NAME/weights.pt`` → ``models/NAME/weights_run/`` (state, metrics.jsonl, curve.png)."""
    return out.parent / f"{out.stem}_run"


def command_line() -> str:
    prog = Path(sys.argv[0]).name
    if prog == "edgeflow":
        return "edgeflow " + shlex.join(sys.argv[1:])
    if prog == "train.py" or "edgeflow.train" in sys.argv[0]:
        return "python -m edgeflow.train " + shlex.join(sys.argv[1:])
    return ""


def write_metrics(run_dir: Path, history: list[dict[str, Any]], name: str) -> None:
    """``metrics.jsonl`` (one JSON object per epoch) and ``curve.png``, both rewritten whole each epoch."""
    from edgeflow.plots import training_curve

    text = "".join(json.dumps(r) + "\n" for r in history)
    atomic_write(run_dir / "metrics.jsonl", lambda tmp: tmp.write_text(text))
    training_curve(history, run_dir / "curve.png", f"{name} training")
