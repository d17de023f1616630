"""SimAM (Yang et al., ICML 2021): a parameter-free attention module — the "lightweight attention of
negligible cost" we use in the self-distillation framework (the paper does not name its module)."""

from __future__ import annotations

import torch
import torch.nn as nn


class SimAM(nn.Module):
    """x · sigmoid(energy), energy = (x − μ)² / (4 (σ² + λ)) + 0.5 per channel over positions."""

    def __init__(self, lam: float = 1e-4) -> None:
        super().__init__()
        self.lam = lam

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean(dim=(2, 3), keepdim=True)) ** 2
        v = d.sum(dim=(2, 3), keepdim=True) / n
        return x * torch.sigmoid(d / (4 * (v + self.lam)) + 0.5)
