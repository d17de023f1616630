"""Slimmed CIFAR nets: depthwise-separable ResNet, DenseNet (+SE) and PyramidNet beside their standard twins.

Source: J.W. Chen, master's thesis 2019 (globethesis GTID 2428330545997833): depthwise-separable convs in
ResNet, DenseNet and PyramidNet; 53 %, 75 % and 59 % of the originals' parameters; SE blocks and a
Conv-ReLU-BN-ReLU-Conv-BN ordering in the DenseNet variant. The base configurations are not given; the
parameter arithmetic in PAPERS.md points to bottleneck bases, which we use: ResNet-164 (bottleneck),
DenseNet-BC-100 (k = 12) and PyramidNet-164 (bottleneck, α = 48). "Slim" replaces every 3×3 conv with a
3×3 depthwise + 1×1 pointwise pair; 1×1 convs stay.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from edgeflow.nets._registry import register_model


def conv3x3(cin: int, cout: int, stride: int, slim: bool) -> nn.Module:
    """Standard 3×3 conv, or its depthwise-separable replacement (no BN/ReLU between dw and pw)."""
    if not slim:
        return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    return nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=False))


class SE(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018), reduction 4 (floor 4 channels)."""

    def __init__(self, c: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(4, c // reduction)
        self.fc = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, hidden, 1), nn.ReLU(inplace=True),
                                nn.Conv2d(hidden, c, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x)


# ---------------------------------------------------------------- ResNet-164 (pre-activation bottleneck)
class PreActBottleneck(nn.Module):
    def __init__(self, cin: int, mid: int, stride: int, slim: bool, out_mul: int = 4) -> None:
        super().__init__()
        cout = mid * out_mul
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, mid, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(mid), conv3x3(mid, mid, stride, slim)
        self.bn3, self.conv3 = nn.BatchNorm2d(mid), nn.Conv2d(mid, cout, 1, bias=False)
        self.shortcut = None if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        return out + skip


class CifarResNet(nn.Module):
    """Pre-activation bottleneck ResNet for CIFAR (He et al. 2016): depth = 9n + 2, widths 16/32/64 (×4 out)."""

    def __init__(self, depth: int = 164, slim: bool = False, num_classes: int = 10, in_chans: int = 3,
                 img_size: int = 32) -> None:
        super().__init__()
        n = (depth - 2) // 9
        self.stem = nn.Conv2d(in_chans, 16, 3, 1, 1, bias=False)
        blocks, cin = [], 16
        for stage, mid in enumerate((16, 32, 64)):
            for i in range(n):
                blocks.append(PreActBottleneck(cin, mid, 2 if stage and i == 0 else 1, slim))
                cin = mid * 4
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(cin, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.stem(x)))


# ---------------------------------------------------------------- DenseNet-BC-100, k = 12
class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 (standard); the SE variant uses the thesis's ordering
    Conv1x1-ReLU-BN-ReLU-Conv3x3-BN and an SE block on the new features."""

    def __init__(self, cin: int, growth: int, slim: bool, se: bool) -> None:
        super().__init__()
        mid = 4 * growth
        if se:
            self.body = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.ReLU(inplace=True), nn.BatchNorm2d(mid),
                                      nn.ReLU(inplace=True), conv3x3(mid, growth, 1, slim), nn.BatchNorm2d(growth),
                                      SE(growth))
        else:
            self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, mid, 1, bias=False),
                                      nn.BatchNorm2d(mid), nn.ReLU(inplace=True), conv3x3(mid, growth, 1, slim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.body(x)], 1)


class DenseNetBC(nn.Module):
    """DenseNet-BC (Huang et al. 2017) for CIFAR: 3 dense blocks of (depth − 4)/6 layers, compression 0.5."""

    def __init__(self, depth: int = 100, growth: int = 12, slim: bool = False, se: bool = False,
                 num_classes: int = 10, in_chans: int = 3, img_size: int = 32) -> None:
        super().__init__()
        n = (depth - 4) // 6
        c = 2 * growth
        layers: list[nn.Module] = [nn.Conv2d(in_chans, c, 3, 1, 1, bias=False)]
        for block in range(3):
            for _ in range(n):
                layers.append(DenseLayer(c, growth, slim, se))
                c += growth
            if block < 2:
                out = c // 2
                layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.Conv2d(c, out, 1, bias=False), nn.AvgPool2d(2)]
                c = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(c, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ---------------------------------------------------------------- PyramidNet-164, bottleneck, α = 48
class PyramidBottleneck(nn.Module):
    def __init__(self, cin: int, mid: int, stride: int, slim: bool) -> None:
        super().__init__()
        cout = mid * 4
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid),
                                  nn.ReLU(inplace=True), conv3x3(mid, mid, stride, slim), nn.BatchNorm2d(mid),
                                  nn.ReLU(inplace=True), nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.pool = nn.AvgPool2d(2) if stride == 2 else None
        self.pad = cout - cin  # zero-padded identity shortcut (PyramidNet)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        skip = self.pool(x) if self.pool is not None else x
        if self.pad:
            skip = F.pad(skip, (0, 0, 0, 0, 0, self.pad))
        return out + skip


class PyramidNet(nn.Module):
    """Additive PyramidNet (Han et al. 2017) for CIFAR, bottleneck blocks: depth = 9n + 2, widening α."""

    def __init__(self, depth: int = 164, alpha: int = 48, slim: bool = False, num_classes: int = 10,
                 in_chans: int = 3, img_size: int = 32) -> None:
        super().__init__()
        n = (depth - 2) // 9
        self.stem = nn.Sequential(nn.Conv2d(in_chans, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16))
        blocks, cin, width = [], 16, 16.0
        for i in range(3 * n):
            width += alpha / (3 * n)
            stride = 2 if i in (n, 2 * n) else 1
            mid = int(math.floor(width))
            blocks.append(PyramidBottleneck(cin, mid, stride, slim))
            cin = mid * 4
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(cin, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.stem(x)))


def _kw(num_classes: int, in_chans: int, img_size: int) -> dict:
    return {"num_classes": num_classes, "in_chans": in_chans, "img_size": img_size}


@register_model
def resnet_cifar(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """Pre-activation bottleneck ResNet-164."""
    return CifarResNet(164, slim=False, **_kw(num_classes, in_chans, img_size))


@register_model
def sresnet(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """ResNet-164 with depthwise-separable 3×3 convs."""
    return CifarResNet(164, slim=True, **_kw(num_classes, in_chans, img_size))


@register_model
def densenet_cifar(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """DenseNet-BC-100, k = 12."""
    return DenseNetBC(100, 12, slim=False, **_kw(num_classes, in_chans, img_size))


@register_model
def sdensenet(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """DenseNet-BC-100 with depthwise-separable 3×3 convs."""
    return DenseNetBC(100, 12, slim=True, **_kw(num_classes, in_chans, img_size))


@register_model
def sdensenet_se(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """sdensenet + SE blocks and the Conv-ReLU-BN-ReLU-Conv-BN ordering."""
    return DenseNetBC(100, 12, slim=True, se=True, **_kw(num_classes, in_chans, img_size))


@register_model
def pyramidnet_cifar(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """Bottleneck PyramidNet-164, α = 48."""
    return PyramidNet(164, 48, slim=False, **_kw(num_classes, in_chans, img_size))


@register_model
def spyramidnet(num_classes: int = 10, in_chans: int = 1, img_size: int = 28) -> nn.Module:
    """PyramidNet-164 (α = 48) with depthwise-separable 3×3 convs."""
    return PyramidNet(164, 48, slim=True, **_kw(num_classes, in_chans, img_size))
