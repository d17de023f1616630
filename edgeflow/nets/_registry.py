"""Where each family registers its nets (``@register_model``). Imports nothing of edgeflow, so the
families can use it without a cycle; building and listing nets is ``edgeflow.zoo.registry``."""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

ModelFactory = Callable[..., nn.Module]
REGISTRY: dict[str, ModelFactory] = {}


def register_model(fn: ModelFactory) -> ModelFactory:
    """Register ``fn`` under its function name. Duplicate names are a programming error."""
    name = fn.__name__
    if name in REGISTRY:
        raise ValueError(f"model {name!r} is already registered")
    REGISTRY[name] = fn
    return fn
