"""Batch augmentation on tensors, seeded per batch so a resumed run sees the same images."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def augment_batch(x: torch.Tensor, policy: str, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and/or horizontal flip of an NCHW batch; ``none`` returns ``x``."""
    if policy == "none":
        return x
    n, _, h, w = x.shape
    if "crop" in policy:
        padded = F.pad(x, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
        x = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    if "flip" in policy:
        flip = torch.rand(n, generator=generator) < 0.5
        x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    return x
