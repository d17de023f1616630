"""The resumable training state (``last.pt`` in the run folder), written after every epoch and on Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from edgeflow.errors import EdgeflowError
from edgeflow.files import atomic_write
from edgeflow.zoo.checkpoint import load_payload

STATE_FORMAT = "edgeflow-train-state-1"
STATE_FILE = "last.pt"


def save_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save({"format": STATE_FORMAT, **state}, tmp))


def load_state(path: Path, name: str, dataset: str) -> dict[str, Any]:
    """Read a state saved for net ``name`` on ``dataset``; any mismatch is a clear error."""
    if not path.is_file():
        raise EdgeflowError(f"nothing to resume: no training state at {path} (it is written after the first "
                            "epoch; pass --run-dir if the run used another folder)")
    state = load_payload(path, STATE_FORMAT, "training state", name)
    if state.get("dataset") != dataset:
        raise EdgeflowError(f"training state {path} was trained on {state.get('dataset')!r}, not {dataset!r}")
    return state
