"""The one way to get a net: built from its card, weights loaded (or seeded random init), the exit selected,
with its provenance. Every stage that needs a PyTorch net (export, parity, device bench, GPU bench, prune,
the latency worker, training) comes through here; it is the seam a user's own network will come in by.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from edgeflow.errors import EdgeflowError
from edgeflow.files import file_sha256
from edgeflow.zoo.cards import ModelCard, get_card
from edgeflow.zoo.checkpoint import default_checkpoint, load_weights
from edgeflow.zoo.registry import create_model

RANDOM_INIT_SEED = 0  # --random-init weights are reproducible


@dataclass(frozen=True)
class LoadedModel:
    """A net ready to run (eval mode), its card, and where its weights came from (for manifests)."""

    model: nn.Module
    card: ModelCard
    source: dict[str, Any]


def build_model(name: str, card: ModelCard | None = None) -> nn.Module:
    """The untrained net ``name`` shaped for its card's input and classes."""
    card = card or get_card(name)
    return create_model(name, num_classes=len(card.classes), in_chans=card.in_chans, img_size=card.img_size)


def load_model(name: str, *, checkpoint: Path | None = None, random_init: bool = False,
               exit: int | None = None) -> LoadedModel:
    """``name`` with the weights of ``checkpoint`` (default: its committed ``models/NAME/weights.pt``), or
    seeded random weights with ``random_init``; ``exit`` deploys shallow exit k of a self-distillation net."""
    card = get_card(name)
    torch.manual_seed(RANDOM_INIT_SEED)
    model = build_model(name, card)
    if random_init:
        source: dict[str, Any] = {"checkpoint": None, "random_init": True, "seed": RANDOM_INIT_SEED}
    else:
        path = Path(checkpoint) if checkpoint else default_checkpoint(name)
        meta = load_weights(model, path, name)
        source = {"checkpoint": path.name, "sha256": file_sha256(path), "random_init": False,
                  "trained_on": meta.get("dataset"), "test_accuracy": meta.get("test_accuracy")}
    if exit is not None:
        select_exit(model, name, exit)
        source["exit"] = exit
    return LoadedModel(model.eval(), card, source)


def select_exit(model: nn.Module, name: str, exit: int) -> None:
    if not hasattr(model, "select_exit"):
        raise EdgeflowError(f"{name} has a single classifier; --exit applies to self-distillation nets")
    model.select_exit(exit)
