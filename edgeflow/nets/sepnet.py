"""SepNet family: ``sep_res18_s3``, its baseline ``cov_res18_s3``, and ``vgg10``.

Paper: Xiao et al. 2021, "SepNet: a lightweight network with separable residual modules and a Kronecker
product classifier", 计算机科学与探索 15(4):743-753, doi:10.3778/j.issn.1673-9418.2004057.

What "res18_s3" means here (the paper's text is not available; see models/sep_res18_s3/card.toml):
a ResNet-18-style net of 18 weight layers — a 3×3 stem conv, 8 residual blocks of two 3×3 convs each,
and one classifier layer — arranged in 3 stages ("s3") of 3/3/2 blocks at strides 1/2/2.
``cov_res18_s3`` uses standard 3×3 convs and GAP + dense FC; ``sep_res18_s3`` replaces every block conv
with a depthwise-separable conv and the classifier with a Kronecker-product layer over the last feature map.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from edgeflow.layers import ConvBNReLU, KroneckerLinear, SeparableConv2d
from edgeflow.nets._registry import register_model

STAGE_BLOCKS = (3, 3, 2)
STAGE_STRIDES = (1, 2, 2)
COV_WIDTHS = (32, 64, 128)
# The separable net widens its last stage (cheap in FLOPs at 7×7, rich in parameters): our reading of
# "balances depth and width", chosen so that params/FLOPs ratios land near the published ones.
SEP_WIDTHS = (32, 64, 256)


class ResidualBlock(nn.Module):
    """Two 3×3 convs (standard or depthwise-separable) with an identity or 1×1 projection shortcut."""

    def __init__(self, cin: int, cout: int, stride: int, separable: bool) -> None:
        super().__init__()
        if separable:
            self.conv1 = SeparableConv2d(cin, cout, stride)
            self.conv2 = SeparableConv2d(cout, cout, 1, relu=False)
        else:
            self.conv1 = ConvBNReLU(cin, cout, 3, stride)
            self.conv2 = ConvBNReLU(cout, cout, 3, 1, relu=False)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = ConvBNReLU(cin, cout, 1, stride, relu=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


def _out_size(img_size: int, strides: tuple[int, ...]) -> int:
    for s in strides:
        img_size = (img_size + s - 1) // s
    return img_size


class ResS3(nn.Module):
    """Stem conv + three stages of residual blocks + classifier (Kronecker or GAP+FC)."""

    def __init__(
        self,
        *,
        widths: tuple[int, int, int],
        separable: bool,
        kronecker: bool,
        num_classes: int = 10,
        in_chans: int = 1,
        img_size: int = 28,
        kron_rank: int = 1,
    ) -> None:
        super().__init__()
        self.stem = ConvBNReLU(in_chans, widths[0], 3, 1)
        blocks: list[nn.Module] = []
        cin = widths[0]
        for cout, n_blocks, stride in zip(widths, STAGE_BLOCKS, STAGE_STRIDES):
            for i in range(n_blocks):
                blocks.append(ResidualBlock(cin, cout, stride if i == 0 else 1, separable))
                cin = cout
        self.features = nn.Sequential(*blocks)
        side = _out_size(img_size, STAGE_STRIDES)
        if kronecker:
            self.classifier: nn.Module = KroneckerLinear(q=cin, n=side * side, p=num_classes, m=1, rank=kron_rank)
        else:
            self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.stem(x)))


@register_model
def sep_res18_s3(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """Separable residual net with a Kronecker-product classifier (the paper's proposed net)."""
    return ResS3(widths=SEP_WIDTHS, separable=True, kronecker=True, num_classes=num_classes,
                 in_chans=in_chans, img_size=img_size)


@register_model
def cov_res18_s3(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """The same layout with standard 3×3 convs and a GAP + dense FC classifier (the paper's baseline)."""
    return ResS3(widths=COV_WIDTHS, separable=False, kronecker=False, num_classes=num_classes,
                 in_chans=in_chans, img_size=img_size)


class VGG10(nn.Module):
    """VGG-style baseline: 7 conv layers (64-64-M-128-128-M-256-256-256-M) + 3 FC layers = 10 weight layers."""

    CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")

    def __init__(self, num_classes: int = 10, in_chans: int = 1, img_size: int = 28, hidden: int = 512) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin, side = in_chans, img_size
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
                side = (side + 1) // 2
            else:
                layers.append(ConvBNReLU(cin, int(v), 3, 1))
                cin = int(v)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(cin * side * side, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@register_model
def vgg10(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """VGG10 baseline of the SepNet paper (layout assumed; see the card)."""
    return VGG10(num_classes=num_classes, in_chans=in_chans, img_size=img_size)
