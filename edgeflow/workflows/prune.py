"""``edgeflow prune``: prune a zoo net's bottlenecks (``edgeflow.layers.surgery``) and write it to a file that
rebuilds."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from edgeflow.errors import EdgeflowError
from edgeflow.layers.surgery import Criterion, depthwise_decompose, prune_bottlenecks
from edgeflow.zoo.loading import load_model

PRUNED_FORMAT = "edgeflow-pruned-1"


def prune_to_file(name: str, out: Path, *, ratio: float, criterion: Criterion, depthwise: bool = False,
                  checkpoint: Path | None = None, random_init: bool = False, force: bool = False) -> dict:
    """Prune net ``name`` (its checkpoint, or seeded random weights) and write the result to ``out``.

    The file holds the pruned state_dict and how it was made; ``load_pruned`` rebuilds the module (the
    pruned widths depend only on the ratio, so the architecture is rebuilt from the recipe).
    """
    from edgeflow.files import atomic_write

    if out.is_dir():
        raise EdgeflowError(f"{out} is a folder; --out takes a file name")
    if out.exists() and not force:
        raise EdgeflowError(f"{out} already exists; pass --force to replace it")
    loaded = load_model(name, checkpoint=checkpoint, random_init=random_init)
    model, source = loaded.model, loaded.source
    try:
        pruned = prune_bottlenecks(model, ratio, criterion)
    except EdgeflowError as e:
        raise EdgeflowError(f"cannot prune {name}: {e} (edgeflow prune takes bottleneck ResNets such as "
                            "resnet50)") from e
    if depthwise:
        pruned = depthwise_decompose(pruned)
    meta = {"source": source, "ratio": ratio, "criterion": criterion, "depthwise": depthwise,
            "params_before": sum(p.numel() for p in model.parameters()),
            "params_after": sum(p.numel() for p in pruned.parameters())}
    payload = {"format": PRUNED_FORMAT, "model": name, "state_dict": pruned.state_dict(), "meta": meta}
    try:
        atomic_write(out, lambda tmp: torch.save(payload, tmp))
    except OSError as e:
        raise EdgeflowError(f"cannot write {out}: {e.strerror}") from e
    return meta


def load_pruned(path: Path) -> tuple[nn.Module, dict]:
    """Rebuild the module written by ``prune_to_file``; returns it (eval mode) and the file's metadata."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as e:
        raise EdgeflowError(f"no such file: {path}") from e
    except Exception as e:  # torch raises many types for a damaged file
        raise EdgeflowError(f"{path} is corrupt or not a pruned-model file ({type(e).__name__})") from e
    if not isinstance(payload, dict) or payload.get("format") != PRUNED_FORMAT:
        raise EdgeflowError(f"{path} is not written by `edgeflow prune` (format {PRUNED_FORMAT!r} expected)")
    meta = payload["meta"]
    model = load_model(payload["model"], random_init=True).model
    model = prune_bottlenecks(model, meta["ratio"], meta["criterion"])
    if meta["depthwise"]:
        model = depthwise_decompose(model)
    from edgeflow.zoo.checkpoint import state_dict_mismatch

    problem = state_dict_mismatch(model.state_dict(), payload["state_dict"])
    if problem:
        raise EdgeflowError(f"{path} does not fit the pruned {payload['model']}: {problem}")
    model.load_state_dict(payload["state_dict"])
    return model.eval(), meta
