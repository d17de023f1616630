"""SimAM (Yang et al., ICML 2021): a parameter-free attention module — the "lightweight attention of
negligible cost" we use in the self-distillation framework (the paper does not name its module)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class SimAM(nn.Module):
    """x · sigmoid(energy), energy = (x − μ)² / (4 (σ² + λ)) + 0.5 per channel over positions."""

    def __init__(self, lam: float = 1e-4) -> None:
        super().__init__()
        self.lam = lam

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hw = x.shape[2] * x.shape[3]
        k = hw / max(hw - 1, 1)  # σ² (unbiased, over hw − 1) = k · the biased variance
        # (x − μ)² / (4 (σ² + λ)) = z² / (4k), z = instance_norm(x, eps = λ/k). Written this way the int8
        # TFLite graph gets an RSQRT (saturates when a channel's variance rounds to 0) instead of a DIV
        # (aborts the whole inference on a zero divisor: seen on sd_vgg11_lite).
        z = F.instance_norm(x, eps=self.lam / k)
        return x * torch.sigmoid(z * z * (0.25 / k) + 0.5)
