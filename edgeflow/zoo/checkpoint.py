"""Checkpoints: save atomically, load with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from edgeflow.errors import EdgeflowError
from edgeflow.files import atomic_write
from edgeflow.paths import model_dir

FORMAT = "edgeflow-checkpoint-1"
WEIGHTS_FILE = "weights.pt"


def default_checkpoint(name: str) -> Path:
    return model_dir(name) / WEIGHTS_FILE


def save_checkpoint(path: Path, name: str, model: nn.Module, meta: dict[str, Any], half: bool = False) -> None:
    """Write ``model``'s weights; ``half`` stores float tensors as float16 (half the bytes, loads into fp32),
    except those float16 cannot hold (see ``fits_half``), which stay float32."""
    state = {k: t.cpu() for k, t in model.state_dict().items()}  # a GPU-trained net loads anywhere
    if half:
        state = {k: t.half() if fits_half(t) else t for k, t in state.items()}
        meta = {**meta, "weights_dtype": "float16"}
    payload = {"format": FORMAT, "model": name, "state_dict": state, "meta": meta}
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def fits_half(t: torch.Tensor) -> bool:
    """Whether float tensor ``t`` survives float16: no finite value turns into inf. BatchNorm running
    variances of a badly scaled net can pass float16's 65504 (seen: 6.4e8 in a 2-epoch cresnet50)."""
    return t.is_floating_point() and bool(torch.isfinite(t.half()).eq(torch.isfinite(t)).all())


@torch.no_grad()
def round_to_half(model: nn.Module) -> None:
    """Round ``model``'s float weights and buffers to float16 values in place (still stored as float32),
    so what is evaluated is exactly what a ``half=True`` checkpoint reloads."""
    for t in model.state_dict().values():
        if fits_half(t):
            t.copy_(t.half().float())


def load_payload(path: Path, fmt: str, what: str, name: str) -> dict[str, Any]:
    """torch.load ``path`` (tensors only) and check its format tag and net name; clear errors otherwise."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise EdgeflowError(f"{what} {path} is corrupt or not a {what} ({type(e).__name__})") from e
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise EdgeflowError(f"{path} is not an edgeflow {what} (format {fmt!r} expected)")
    if payload.get("model") != name:
        raise EdgeflowError(f"{what} {path} belongs to {payload.get('model')!r}, not {name!r}")
    return payload


def read_checkpoint(path: Path, name: str) -> dict[str, Any]:
    """Load and check a checkpoint file written by ``save_checkpoint`` for net ``name``."""
    if not path.is_file():
        raise EdgeflowError(
            f"no checkpoint for {name!r} at {path}. Train one with `edgeflow train {name}`, pass "
            "--checkpoint FILE, or use --random-init to export untrained weights.")
    return load_payload(path, FORMAT, "checkpoint", name)


def load_weights(model: nn.Module, path: Path, name: str) -> dict[str, Any]:
    """Load the checkpoint's weights into ``model``; return its metadata."""
    payload = read_checkpoint(path, name)
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise EdgeflowError(f"checkpoint {path} holds no state_dict")
    problem = state_dict_mismatch(model.state_dict(), state)
    if problem:
        raise EdgeflowError(f"checkpoint {path} does not fit {name!r}: {problem}")
    bad = [k for k, t in state.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise EdgeflowError(f"checkpoint {path} holds NaN or inf in {len(bad)} tensor(s), first {bad[0]}; "
                            "the run that wrote it diverged: retrain (e.g. with a lower --lr)")
    model.load_state_dict(state)
    return payload.get("meta", {})


def state_dict_mismatch(expected: dict[str, torch.Tensor], found: dict[str, Any], show: int = 3) -> str:
    """'' when ``found`` fits ``expected`` key for key and shape for shape, else what differs, keys first."""
    def some(keys: list[str]) -> str:
        return ", ".join(keys[:show]) + (f" (+{len(keys) - show} more)" if len(keys) > show else "")

    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [f"{k} is {tuple(getattr(found[k], 'shape', ()))} in the file, {tuple(t.shape)} in the net"
              for k, t in expected.items() if k in found and tuple(getattr(found[k], "shape", ())) != tuple(t.shape)]
    parts = [f"missing {some(missing)}" if missing else "", f"unexpected {some(unexpected)}" if unexpected else "",
             f"shape of {some(shapes)}" if shapes else ""]
    return "; ".join(p for p in parts if p)
