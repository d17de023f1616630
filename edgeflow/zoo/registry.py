"""Nets by name: list, check and build them (families register with ``edgeflow.nets._registry``)."""

from __future__ import annotations

import difflib
import fnmatch

import torch.nn as nn

from edgeflow.errors import EdgeflowError
from edgeflow.nets._registry import REGISTRY


def _ensure_loaded() -> None:
    import edgeflow.nets  # noqa: F401  (importing registers every family)


def list_models(pattern: str = "*") -> list[str]:
    """Registered names matching a shell-style pattern, sorted."""
    _ensure_loaded()
    return sorted(n for n in REGISTRY if fnmatch.fnmatch(n, pattern))


def check_model_name(name: str) -> None:
    """Raise EdgeflowError for an unknown name, suggesting close ones."""
    _ensure_loaded()
    if name in REGISTRY:
        return
    close = difflib.get_close_matches(name, REGISTRY, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise EdgeflowError(f"unknown model {name!r}.{hint} See `edgeflow models list`.")


def create_model(name: str, *, pretrained: bool = False, **kwargs) -> nn.Module:
    """Build a registered net; with ``pretrained`` load its committed checkpoint."""
    check_model_name(name)
    model = REGISTRY[name](**kwargs)
    if pretrained:
        from edgeflow.zoo.checkpoint import default_checkpoint, load_weights

        load_weights(model, default_checkpoint(name), name)
    return model
