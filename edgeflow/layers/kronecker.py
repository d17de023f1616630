"""Kronecker-product fully-connected layer (Zhou & Wu 2015, "Compression of FC layer by Kronecker product").

The weight of a dense layer from D = q·n inputs to K = p·m outputs is factored as
``W = sum_i A_i ⊗ B_i`` with ``A_i ∈ R^{p×q}`` and ``B_i ∈ R^{m×n}``. The forward pass uses the identity
``(A ⊗ B) vec(X) = vec(B X Aᵀ)`` and never builds W.

Layout: the input is an NCHW feature map (or anything that flattens to ``(q, n)`` per sample), i.e.
``q`` = channels and ``n`` = H·W. Its row-major flattening of ``(q, n)`` is the column-major ``vec`` of
``X = (n × q)``, so ``forward(x) == x.flatten(1) @ W.T + bias`` exactly, with ``W = kron(A, B)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


class KroneckerLinear(nn.Module):
    """Dense layer whose weight is a rank-``rank`` sum of Kronecker products.

    Args:
        q: input channels (columns of X).
        n: input positions per channel, H·W (rows of X).
        p: output rows taken from A.
        m: output rows taken from B; the layer has ``p * m`` outputs ordered ``(p, m)`` row-major.
        rank: number of Kronecker terms summed.
    """

    def __init__(self, q: int, n: int, p: int, m: int = 1, rank: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.q, self.n, self.p, self.m, self.rank = q, n, p, m, rank
        self.A = nn.Parameter(torch.empty(rank, p, q))
        self.B = nn.Parameter(torch.empty(rank, m, n))
        self.bias = nn.Parameter(torch.zeros(p * m)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # A like a dense layer over q inputs; B near 1, so that W starts as global average pooling + FC.
        bound_a = math.sqrt(1.0 / self.q)
        nn.init.uniform_(self.A, -bound_a, bound_a)
        nn.init.uniform_(self.B, 0.9, 1.1)

    @property
    def scale(self) -> float:
        # B is stored as n·B_effective: with B ≈ 1 its gradients have the size of A's, which keeps SGD on
        # the product A ⊗ B stable (storing B ≈ 1/n directly made training diverge to NaN at lr 0.05).
        return 1.0 / self.n

    def weight(self) -> torch.Tensor:
        """The dense (p·m × q·n) weight; for tests and inspection only."""
        return self.scale * sum(torch.kron(self.A[i], self.B[i]) for i in range(self.rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = x.reshape(x.shape[0], self.q, self.n)  # (N, q, n) = Xᵀ per sample
        out = 0
        for i in range(self.rank):
            # vec(B X Aᵀ) column-major == row-major flatten of A Xᵀ Bᵀ, computed as (Xᵀ Bᵀ)ᵀ Aᵀ: shape (N, m, p).
            # Both products have the constant on the right, so exporters emit two FULLY_CONNECTED ops; A @ t
            # (constant on the left) became a BATCH_MATMUL, which XNNPACK does not take in int8 (a 2nd partition).
            t = torch.matmul(f, self.B[i].t())  # (N, q, m): a dense layer over the n positions
            out = out + torch.matmul(t.transpose(1, 2), self.A[i].t())  # (N, m, p): a dense layer over q
        y = out.transpose(1, 2).reshape(x.shape[0], self.p * self.m) * self.scale
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"q={self.q}, n={self.n}, p={self.p}, m={self.m}, rank={self.rank}"
