"""Lightweight self-distillation: compressed ResNet-18 / VGG11 teachers with a shallow classifier after
every stage, each behind a parameter-free attention module.

Paper: Ni & Ma 2023, BUPT Journal 2023(6):66-71 (abstract only): group + depthwise-separable convolutions
compress ResNet and VGG11 (the teachers); shallow classifiers built according to the teacher's depth are
the students; a lightweight attention module of negligible cost. Our choices (see the cards): group 1×1 +
depthwise 3×3 convs, SimAM attention (0 parameters), and shallow heads of depthwise-separable stride-2
convs down to the final resolution + GAP + FC (the BYOT / Zhang et al. layout).

``forward`` returns the deepest exit; ``forward_all`` every exit (for the distillation losses of the
training issue); ``select_exit(k)`` makes ``forward`` return exit k (1 = shallowest), which is how
``edgeflow export NAME --exit k`` deploys a shallow student alone.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from edgeflow.layers import ConvBNReLU, SeparableConv2d
from edgeflow.layers.attention import SimAM
from edgeflow.nets._registry import register_model


class GroupDSBlock(nn.Module):
    """Compressed basic block: grouped 1×1 conv → depthwise-separable 3×3 (stride), residual."""

    def __init__(self, cin: int, cout: int, stride: int, groups: int = 4) -> None:
        super().__init__()
        g = groups if cin % groups == 0 and cout % groups == 0 else 1
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 1, groups=g, bias=False), nn.BatchNorm2d(cout),
                                  nn.ReLU(inplace=True), SeparableConv2d(cout, cout, stride, relu=False))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else ConvBNReLU(cin, cout, 1, stride, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def shallow_head(cin: int, cout: int, downsamples: int, num_classes: int) -> nn.Module:
    """Attention → ``downsamples`` stride-2 separable convs to the deepest resolution → GAP → FC."""
    layers: list[nn.Module] = [SimAM()]
    c = cin
    for i in range(downsamples):
        nxt = cout if i == downsamples - 1 else min(cout, c * 2)
        layers.append(SeparableConv2d(c, nxt, 2))
        c = nxt
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))


class SelfDistillNet(nn.Module):
    """A staged backbone with one classifier per stage; the last is the teacher, the others students."""

    def __init__(self, stem: nn.Module, stages: list[nn.Module], widths: list[int], num_classes: int) -> None:
        super().__init__()
        self.stem = stem
        self.stages = nn.ModuleList(stages)
        n = len(stages)
        self.heads = nn.ModuleList(
            [shallow_head(w, widths[-1], n - 1 - i, num_classes) for i, w in enumerate(widths[:-1])]
            + [nn.Sequential(SimAM(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], num_classes))])
        self.exit = n  # 1-based exit that forward() returns

    @property
    def num_exits(self) -> int:
        return len(self.stages)

    def select_exit(self, k: int) -> "SelfDistillNet":
        from edgeflow.errors import EdgeflowError

        if not 1 <= k <= self.num_exits:
            raise EdgeflowError(f"exit must be 1..{self.num_exits}, got {k}")
        self.exit = k
        return self

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits of every exit, shallowest first."""
        return self.forward_with_features(x)[0]

    def forward_with_features(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Logits and pooled features (the FC inputs, all of the deepest width) of every exit."""
        x, logits, features = self.stem(x), [], []
        for stage, head in zip(self.stages, self.heads):
            x = stage(x)
            feat = head[:-1](x)
            features.append(feat)
            logits.append(head[-1](feat))
        return logits, features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages[: self.exit]:  # a shallow exit never runs the deeper stages
            x = stage(x)
        return self.heads[self.exit - 1](x)


def _resnet18_lite(num_classes: int, in_chans: int, img_size: int) -> SelfDistillNet:
    widths = [32, 64, 128, 256]
    stages, cin = [], 32
    for i, w in enumerate(widths):
        stride = 1 if i == 0 else 2
        stages.append(nn.Sequential(GroupDSBlock(cin, w, stride), GroupDSBlock(w, w, 1)))
        cin = w
    return SelfDistillNet(ConvBNReLU(in_chans, 32, 3, 1), stages, widths, num_classes)


def _vgg11_lite(num_classes: int, in_chans: int, img_size: int) -> SelfDistillNet:
    cfg = [[64], [128], [256, 256], [512, 512]]  # VGG11's first four blocks (its fifth is dropped at 28 px)
    stages, cin = [], 32
    for i, block in enumerate(cfg):
        layers: list[nn.Module] = [nn.MaxPool2d(2, ceil_mode=True)] if i else []
        for w in block:
            layers.append(SeparableConv2d(cin, w, 1))
            cin = w
        stages.append(nn.Sequential(*layers))
    return SelfDistillNet(ConvBNReLU(in_chans, 32, 3, 1), stages, [b[-1] for b in cfg], num_classes)


@register_model
def sd_resnet18_lite(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """Compressed ResNet-18 (group 1×1 + depthwise-separable 3×3) with 4 exits."""
    return _resnet18_lite(num_classes, in_chans, img_size)


@register_model
def sd_vgg11_lite(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """VGG11-style stack of depthwise-separable convs with 4 exits."""
    return _vgg11_lite(num_classes, in_chans, img_size)
