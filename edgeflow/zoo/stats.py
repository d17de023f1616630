"""Parameter and FLOP counts, and the paper-vs-ours comparison rows of a card."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import torch

from edgeflow.zoo.cards import ModelCard, get_card
from edgeflow.zoo.loading import build_model

CLAIM_KEY = re.compile(r"^(params|flops)_reduction_vs_(\w+)_pct$")
FEWER_KEY = re.compile(r"^params_fewer_than_(\w+)_m$")  # absolute: "3.7 M fewer parameters than X"
KEPT_KEY = re.compile(r"^params_pct_of_(\w+)$")  # "53 % of the original's parameters"
ABS_KEY = "params_m"  # "4.08 M parameters"


@dataclass(frozen=True)
class NetStats:
    params: int
    flops: int  # per image, counted by torch.utils.flop_counter (2 FLOPs per multiply-add; conv/matmul only)


@lru_cache(maxsize=None)
def net_stats(name: str) -> NetStats:
    """Params and FLOPs of ``name`` at its card's input size."""
    from torch.utils.flop_counter import FlopCounterMode

    card = get_card(name)
    model = build_model(name, card).eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(card.input_shape))
    return NetStats(sum(p.numel() for p in model.parameters()), int(counter.get_total_flops()))


@dataclass(frozen=True)
class ClaimRow:
    claim: str
    paper_pct: float  # for absolute claims: the paper's number in ``unit``
    ours_pct: float
    unit: str = "%"

    @property
    def gap_pp(self) -> float:
        return self.ours_pct - self.paper_pct


def claim_rows(card: ModelCard) -> list[ClaimRow]:
    """Every ``<params|flops>_reduction_vs_<net>_pct`` claim of the card beside our measured reduction."""
    rows = []
    ours = net_stats(card.name)
    for key, paper in card.claims.items():
        if key == ABS_KEY:
            rows.append(ClaimRow("params", float(paper), ours.params / 1e6, "M"))
            continue
        if k := KEPT_KEY.match(key):
            base = net_stats(k.group(1))
            rows.append(ClaimRow(f"params kept of {k.group(1)}", float(paper), 100.0 * ours.params / base.params, "% kept"))
            continue
        if f := FEWER_KEY.match(key):
            base = net_stats(f.group(1))
            rows.append(ClaimRow(f"params fewer than {f.group(1)}", float(paper), (base.params - ours.params) / 1e6, "M"))
            continue
        m = CLAIM_KEY.match(key)
        if not m:
            continue
        metric, other = m.groups()
        base = net_stats(other)
        mine, theirs = (ours.params, base.params) if metric == "params" else (ours.flops, base.flops)
        rows.append(ClaimRow(f"{metric} vs {other}", float(paper), 100.0 * (1 - mine / theirs)))
    return rows
