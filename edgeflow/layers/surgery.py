"""Channel pruning and depthwise decomposition for bottleneck ResNets (the CResNet recipe).

* ``prune_bottlenecks``: in every bottleneck, rank the inner channels (after conv1 and after conv2) by a
  criterion — BatchNorm |γ| (network slimming, Liu et al. 2017) or the L1 norm of the producing filters
  (Li et al. 2017) — keep the top ``1 − ratio`` and rebuild smaller convs with the kept weights. The
  residual (outer) widths are untouched, so shortcuts stay valid.
* ``depthwise_decompose``: replace each bottleneck's 3×3 conv by a 3×3 depthwise conv followed by a 1×1
  pointwise conv, initialised from a rank-1 SVD of each input channel's kernel slice (He et al. 2019,
  "Depth-wise decomposition for accelerating separable convolutions"): exact when the slice is rank 1.

Both return a new module and leave the input model unchanged.
"""

from __future__ import annotations

import copy
from typing import Literal

import torch
import torch.nn as nn

from edgeflow.errors import EdgeflowError
from edgeflow.layers.bottleneck import Bottleneck

Criterion = Literal["bn_gamma", "l1"]


def _scores(conv: nn.Conv2d, bn: nn.BatchNorm2d, criterion: Criterion) -> torch.Tensor:
    if criterion == "bn_gamma":
        return bn.weight.detach().abs()
    if criterion == "l1":
        return conv.weight.detach().abs().flatten(1).sum(1)
    raise EdgeflowError(f"unknown pruning criterion {criterion!r}; use bn_gamma or l1")


def _keep(scores: torch.Tensor, ratio: float) -> torch.Tensor:
    n = max(1, int(round(len(scores) * (1 - ratio))))
    return torch.sort(torch.topk(scores, n).indices).values


def _slice_conv(conv: nn.Conv2d, out_idx: torch.Tensor | None, in_idx: torch.Tensor | None) -> nn.Conv2d:
    w = conv.weight.detach()
    if out_idx is not None:
        w = w[out_idx]
    if in_idx is not None:
        w = w[:, in_idx]
    new = nn.Conv2d(w.shape[1], w.shape[0], conv.kernel_size, conv.stride, conv.padding, conv.dilation, bias=False)
    new.weight.data.copy_(w)
    return new


def _slice_bn(bn: nn.BatchNorm2d, idx: torch.Tensor) -> nn.BatchNorm2d:
    new = nn.BatchNorm2d(len(idx), eps=bn.eps, momentum=bn.momentum)
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(new, name).data.copy_(getattr(bn, name).detach()[idx])
    return new


def prune_bottlenecks(model: nn.Module, ratio: float, criterion: Criterion = "bn_gamma") -> nn.Module:
    """A copy of ``model`` with every bottleneck's inner widths cut by ``ratio`` (0 ≤ ratio < 1)."""
    if not 0 <= ratio < 1:
        raise EdgeflowError(f"pruning ratio must be in [0, 1), got {ratio}")
    model = copy.deepcopy(model)
    blocks = [m for m in model.modules() if isinstance(m, Bottleneck)]
    if not blocks:
        raise EdgeflowError("no bottleneck blocks to prune in this model")
    for b in blocks:
        if not isinstance(b.conv2, nn.Conv2d) or b.conv2.groups != 1:
            raise EdgeflowError("prune before depthwise decomposition")
        k1 = _keep(_scores(b.conv1, b.bn1, criterion), ratio)
        k2 = _keep(_scores(b.conv2, b.bn2, criterion), ratio)
        b.conv1, b.bn1 = _slice_conv(b.conv1, k1, None), _slice_bn(b.bn1, k1)
        b.conv2, b.bn2 = _slice_conv(b.conv2, k2, k1), _slice_bn(b.bn2, k2)
        b.conv3 = _slice_conv(b.conv3, None, k2)
    return model


def _decompose(conv: nn.Conv2d) -> nn.Sequential:
    w = conv.weight.detach()  # (cout, cin, k, k)
    cout, cin, kh, kw = w.shape
    dw = nn.Conv2d(cin, cin, (kh, kw), conv.stride, conv.padding, conv.dilation, groups=cin, bias=False)
    pw = nn.Conv2d(cin, cout, 1, bias=False)
    for i in range(cin):  # W[:, i] (cout × k²) ≈ s·u vᵀ: depthwise kernel v, pointwise column s·u
        u, s, vh = torch.linalg.svd(w[:, i].reshape(cout, kh * kw), full_matrices=False)
        dw.weight.data[i, 0] = vh[0].reshape(kh, kw)
        pw.weight.data[:, i, 0, 0] = u[:, 0] * s[0]
    return nn.Sequential(dw, pw)


def depthwise_decompose(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every bottleneck's 3×3 conv split into depthwise + pointwise (SVD init)."""
    model = copy.deepcopy(model)
    for b in (m for m in model.modules() if isinstance(m, Bottleneck)):
        if isinstance(b.conv2, nn.Conv2d) and b.conv2.groups == 1:
            b.conv2 = _decompose(b.conv2)
    return model
