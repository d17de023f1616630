"""Convolution blocks: standard conv+BN(+ReLU) and depthwise-separable conv."""

from __future__ import annotations

import torch.nn as nn


class ConvBNReLU(nn.Sequential):
    """k×k convolution (no bias) + BatchNorm, optionally followed by ReLU."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, *, relu: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class SeparableConv2d(nn.Sequential):
    """3×3 depthwise conv + BN + ReLU, then 1×1 pointwise conv + BN (+ReLU).

    Drop-in replacement for ``ConvBNReLU(cin, cout, 3, stride)`` with about 1/9 + 1/cout of its
    weights and multiply-adds.
    """

    def __init__(self, cin: int, cout: int, stride: int = 1, *, relu: bool = True, dilation: int = 1) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cin, 3, stride, padding=dilation, dilation=dilation, groups=cin, bias=False),
            nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True),
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)
