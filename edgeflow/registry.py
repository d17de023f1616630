"""Model registry: ``register_model`` decorates a factory; ``create_model`` builds by name."""

from __future__ import annotations

import difflib
import fnmatch
from typing import Callable

import torch.nn as nn

from edgeflow.errors import EdgeflowError

ModelFactory = Callable[..., nn.Module]
_REGISTRY: dict[str, ModelFactory] = {}


def register_model(fn: ModelFactory) -> ModelFactory:
    """Register ``fn`` under its function name. Duplicate names are a programming error."""
    name = fn.__name__
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered")
    _REGISTRY[name] = fn
    return fn


def _ensure_loaded() -> None:
    import edgeflow.nets  # noqa: F401  (importing registers every family)


def list_models(pattern: str = "*") -> list[str]:
    """Registered names matching a shell-style pattern, sorted."""
    _ensure_loaded()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def check_model_name(name: str) -> None:
    """Raise EdgeflowError for an unknown name, suggesting close ones."""
    _ensure_loaded()
    if name in _REGISTRY:
        return
    close = difflib.get_close_matches(name, _REGISTRY, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise EdgeflowError(f"unknown model {name!r}.{hint} See `edgeflow models list`.")


def create_model(name: str, *, pretrained: bool = False, **kwargs) -> nn.Module:
    """Build a registered net; with ``pretrained`` load its committed checkpoint."""
    check_model_name(name)
    model = _REGISTRY[name](**kwargs)
    if pretrained:
        from edgeflow.checkpoint import default_checkpoint, load_weights

        load_weights(model, default_checkpoint(name), name)
    return model
