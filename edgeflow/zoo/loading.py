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
               exit: int | None = None, card: ModelCard | None = None) -> LoadedModel:
    """``name`` with the weights of ``checkpoint`` (default: its committed ``models/NAME/weights.pt``), or
    seeded random weights with ``random_init``; ``exit`` deploys shallow exit k of a self-distillation net.

    With ``card`` (the input contract of a user's own net), ``name`` is any source ``zoo.sources`` reads
    (file.py:function, module:function, torchvision:NAME, model.pt2) and ``checkpoint`` may be a plain
    state_dict; a .pt2 brings its own weights."""
    if card is not None:
        return _load_user_model(name, card, checkpoint, random_init, exit)
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


def _load_user_model(spec: str, card: ModelCard, checkpoint: Path | None, random_init: bool,
                     exit: int | None) -> LoadedModel:
    from edgeflow.zoo.registry import list_models
    from edgeflow.zoo.sources import build_from_source, parse_source

    src = parse_source(spec, list_models())
    torch.manual_seed(RANDOM_INIT_SEED)
    if src.kind == "zoo":  # a zoo architecture trained for another contract (card_from_record)
        return _zoo_net_for_contract(spec, card, checkpoint, random_init, exit)
    model = build_from_source(src, len(card.classes))
    source = src.describe()
    if checkpoint is not None:
        load_plain_weights(model, Path(checkpoint), src.spec)
        source.update(checkpoint=Path(checkpoint).name, sha256=file_sha256(Path(checkpoint)), random_init=False)
    elif random_init:
        source.update(checkpoint=None, random_init=True, seed=RANDOM_INIT_SEED)
    elif src.kind != "pt2":
        raise EdgeflowError(f"{src.spec} has no weights yet: pass --checkpoint FILE (a state_dict or an edgeflow "
                            "checkpoint) or --random-init")
    if exit is not None:
        select_exit(model, src.name, exit)
        source["exit"] = exit
    check_contract(model.eval(), card, src.spec)
    return LoadedModel(model, card, source)


def _zoo_net_for_contract(name: str, card: ModelCard, checkpoint: Path | None, random_init: bool,
                          exit: int | None) -> LoadedModel:
    model = build_model(name, card)
    source: dict[str, Any] = {"spec": name, "kind": "zoo-architecture", "random_init": random_init}
    if checkpoint is not None:
        meta = load_weights(model, Path(checkpoint), name)
        source.update(checkpoint=Path(checkpoint).name, sha256=file_sha256(Path(checkpoint)),
                      trained_on=meta.get("dataset"), test_accuracy=meta.get("test_accuracy"))
    elif not random_init:
        raise EdgeflowError(f"{card.name} has no committed weights: pass --checkpoint FILE or --random-init")
    if exit is not None:
        select_exit(model, name, exit)
        source["exit"] = exit
    return LoadedModel(model.eval(), card, source)


def live_model(model: nn.Module, card: ModelCard) -> LoadedModel:
    """A net handed over in Python (the ``edgeflow.export_model`` API): its weights are hashed, since no file
    defines it."""
    import hashlib

    check_contract(model.eval(), card, type(model).__name__)
    h = hashlib.sha256()
    for key, t in model.state_dict().items():
        h.update(key.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return LoadedModel(model, card, {"kind": "python-object", "class": type(model).__qualname__,
                                     "weights_sha256": h.hexdigest(), "random_init": False})


def check_contract(model: nn.Module, card: ModelCard, what: str) -> None:
    """The net takes the contract's input and gives one logit per class; else one clear line."""
    shape = "x".join(map(str, card.input_shape[1:]))
    try:
        with torch.inference_mode():
            y = model(torch.zeros(card.input_shape))
    except Exception as e:  # the user's forward: shapes that do not fit raise many types
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise EdgeflowError(f"{what} does not take the contract's {shape} input: {first[:200]}") from e
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (1, len(card.classes)):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise EdgeflowError(f"{what} returns {got} for one {shape} image; the contract names "
                            f"{len(card.classes)} classes, so (1, {len(card.classes)}) logits were expected")


def load_plain_weights(model: nn.Module, path: Path, what: str) -> None:
    """A plain ``state_dict`` file or an edgeflow checkpoint (tensors only), checked key by key."""
    from edgeflow.zoo.checkpoint import FORMAT, state_dict_mismatch

    if not path.is_file():
        raise EdgeflowError(f"no such checkpoint: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise EdgeflowError(f"checkpoint {path} is corrupt or not a state_dict ({type(e).__name__})") from e
    state = payload.get("state_dict") if isinstance(payload, dict) and payload.get("format") == FORMAT else payload
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EdgeflowError(f"checkpoint {path} is not a state_dict (a dict of tensors)")
    problem = state_dict_mismatch(model.state_dict(), state)
    if problem:
        raise EdgeflowError(f"checkpoint {path} does not fit {what}: {problem}")
    if any(t.is_floating_point() and not bool(torch.isfinite(t).all()) for t in state.values()):
        raise EdgeflowError(f"checkpoint {path} holds NaN or inf weights")
    model.load_state_dict(state)


def select_exit(model: nn.Module, name: str, exit: int) -> None:
    if not hasattr(model, "select_exit"):
        raise EdgeflowError(f"{name} has a single classifier; --exit applies to self-distillation nets")
    model.select_exit(exit)
