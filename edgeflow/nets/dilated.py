"""Dilated depthwise-separable classifier (29 layers) and its GoogLeNet baseline.

Paper: Sun, Zhang, He 2020, "A lightweight image classifier based on dilated and depthwise separable
convolutions", Journal of Cloud Computing 9:55, doi:10.1186/s13677-020-00203-9. Only the abstract is
available: 29 layers, dilated + depthwise-separable convolutions, three hyperparameters (width multiplier
α, input resolution ρ, dilation rate), about +1 % accuracy and 3.7 M fewer parameters than GoogLeNet.

Our layout (assumed, see models/dilated_dsnet_100/card.toml): MobileNet-V1's 28 weight layers (a 3×3 stem
conv, 13 depthwise-separable blocks, a classifier) plus one "joint module" layer — a dilated 3×3 depthwise
conv — before the 14×14 (here: third-resolution) 512-channel stage, whose five depthwise convs are dilated
too. ρ is the input resolution (``img_size``); for inputs under 96 px the stem and the first block keep
stride 1 so a 28/32 px image still ends at 4×4.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from edgeflow.layers import ConvBNReLU, SeparableConv2d
from edgeflow.nets._registry import register_model

# (output channels, stride) of MobileNet-V1's 13 depthwise-separable blocks
MOBILENET_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))
DILATED_BLOCKS = range(6, 11)  # the five 512-channel blocks after the stage's downsampling block


class DilatedDSNet(nn.Module):
    """MobileNet-V1-style net with a dilated joint module; α = width multiplier, dilation = rate."""

    def __init__(self, *, alpha: float = 1.0, dilation: int = 2, num_classes: int = 10, in_chans: int = 1,
                 img_size: int = 28) -> None:
        super().__init__()
        small = img_size < 96

        def width(c: int) -> int:
            return max(8, int(c * alpha))

        self.stem = ConvBNReLU(in_chans, width(32), 3, 1 if small else 2)
        layers: list[nn.Module] = []
        cin = width(32)
        for i, (cout, stride) in enumerate(MOBILENET_BLOCKS):
            if small and i == 1:
                stride = 1  # keep resolution for 28/32 px inputs
            if i == DILATED_BLOCKS.start:
                # the joint module: a dilated 3×3 depthwise conv (BN + ReLU) ahead of the dilated stage
                layers += [nn.Conv2d(cin, cin, 3, padding=dilation, dilation=dilation, groups=cin, bias=False),
                           nn.BatchNorm2d(cin), nn.ReLU(inplace=True)]
            d = dilation if i in DILATED_BLOCKS else 1
            layers.append(SeparableConv2d(cin, width(cout), stride, dilation=d))
            cin = width(cout)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(self.stem(x))), 1))


@register_model
def dilated_dsnet_100(num_classes: int = 10, in_chans: int = 1, img_size: int = 28, dilation: int = 2) -> nn.Module:
    """α = 1.0."""
    return DilatedDSNet(alpha=1.0, dilation=dilation, num_classes=num_classes, in_chans=in_chans, img_size=img_size)


@register_model
def dilated_dsnet_075(num_classes: int = 10, in_chans: int = 1, img_size: int = 28, dilation: int = 2) -> nn.Module:
    """α = 0.75."""
    return DilatedDSNet(alpha=0.75, dilation=dilation, num_classes=num_classes, in_chans=in_chans, img_size=img_size)


@register_model
def dilated_dsnet_050(num_classes: int = 10, in_chans: int = 1, img_size: int = 28, dilation: int = 2) -> nn.Module:
    """α = 0.5."""
    return DilatedDSNet(alpha=0.5, dilation=dilation, num_classes=num_classes, in_chans=in_chans, img_size=img_size)


class Inception(nn.Module):
    """GoogLeNet's inception module: 1×1 | 1×1→3×3 | 1×1→5×5 | maxpool→1×1, concatenated."""

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pp: int) -> None:
        super().__init__()
        self.b1 = ConvBNReLU(cin, c1, 1)
        self.b2 = nn.Sequential(ConvBNReLU(cin, c3r, 1), ConvBNReLU(c3r, c3, 3))
        self.b3 = nn.Sequential(ConvBNReLU(cin, c5r, 1), ConvBNReLU(c5r, c5, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), ConvBNReLU(cin, pp, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNet(nn.Module):
    """GoogLeNet (Szegedy et al. 2015, Table 1) without auxiliary heads, BN after every conv.
    The baseline whose parameter count the dilated net's card is held against."""

    CFG = (((192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64)),
           ((480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
            (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128)),
           ((832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)))

    def __init__(self, num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> None:
        super().__init__()
        small = img_size < 96
        self.stem = nn.Sequential(ConvBNReLU(in_chans, 64, 7 if not small else 3, 2 if not small else 1),
                                  *( [nn.MaxPool2d(3, 2, 1)] if not small else []),
                                  ConvBNReLU(64, 64, 1), ConvBNReLU(64, 192, 3),
                                  *( [nn.MaxPool2d(3, 2, 1)] if not small else []))
        stages: list[nn.Module] = []
        for i, stage in enumerate(self.CFG):
            if i:
                stages.append(nn.MaxPool2d(3, 2, 1))
            stages += [Inception(*cfg) for cfg in stage]
        self.features = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.4), nn.Linear(1024, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(self.stem(x))), 1))


@register_model
def googlenet(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """GoogLeNet baseline of the dilated DS net's paper."""
    return GoogLeNet(num_classes=num_classes, in_chans=in_chans, img_size=img_size)
