"""Quantization-aware fine-tuning that matches how our int8 TFLite models are made.

The TFLite converter folds each BatchNorm into the conv before it, quantizes the folded weights
per output channel (symmetric int8) and every activation per tensor (uint8-range affine). So we
fake-quantize the *folded* weight (W·γ/σ, then divide the fold back out, so the net keeps its BN and
its checkpoint layout) with a straight-through rounding, and attach PyTorch AO ``FakeQuantize`` modules
(moving-average min/max observers) to every ReLU output and to the logits. After fine-tuning,
``plain_copy`` bakes the fake-quantized weights into an ordinary net: a normal checkpoint that the normal
export pipeline quantizes again, now with weights that already sit on the int8 grid.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver
from torch.nn.utils import parametrize


class FoldedWeightFakeQuant(nn.Module):
    """Parametrization: W → FQ(W·s)/s with s = γ/σ of the BN that follows the conv (1 without one)."""

    def __init__(self, bn: nn.BatchNorm2d | None) -> None:
        super().__init__()
        self._bn = [bn]  # a list, so the BN is not registered (and saved) twice

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        bn = self._bn[0]
        shape = (-1,) + (1,) * (weight.dim() - 1)
        if bn is None:
            scale = torch.ones(weight.shape[0], device=weight.device)
        else:
            scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
            scale = torch.where(scale.abs() < 1e-8, torch.full_like(scale, 1e-8), scale)
        folded = weight * scale.view(shape)
        step = folded.abs().amax(dim=tuple(range(1, weight.dim())), keepdim=True).clamp_min(1e-12) / 127
        quantized = torch.clamp(torch.round(folded / step), -127, 127) * step
        folded = folded + (quantized - folded).detach()  # straight-through estimator
        return folded / scale.view(shape)


def _conv_bn_pairs(net: nn.Module) -> list[tuple[nn.Module, nn.BatchNorm2d | None]]:
    """Every conv/linear with the BatchNorm that directly follows it in its container (or None)."""
    pairs, seen = [], set()
    for module in net.modules():
        children = list(module.children())
        for layer, nxt in zip(children, children[1:] + [None]):
            if isinstance(layer, (nn.Conv2d, nn.Linear)) and id(layer) not in seen:
                seen.add(id(layer))
                pairs.append((layer, nxt if isinstance(nxt, nn.BatchNorm2d) else None))
    for module in net.modules():  # layers not inside a container we walked (e.g. attributes of a block)
        if isinstance(module, (nn.Conv2d, nn.Linear)) and id(module) not in seen:
            seen.add(id(module))
            pairs.append((module, None))
    return pairs


def _activation_fake_quant() -> FakeQuantize:
    return FakeQuantize(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                        dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=False)


class QatHandle:
    """The fake-quant modules attached to a net; ``plain_copy`` gives the ordinary net to save."""

    def __init__(self, net: nn.Module) -> None:
        self.net = net
        self.weight_layers = [layer for layer, _ in _conv_bn_pairs(net)]
        self.activation_quant = nn.ModuleList()
        self._hooks = []

    def observe(self, module: nn.Module) -> None:
        fq = _activation_fake_quant()
        self.activation_quant.append(fq)
        self._hooks.append(module.register_forward_hook(lambda _m, _i, out: fq(out)))

    def plain_copy(self) -> nn.Module:
        """A copy without hooks or parametrizations whose weights are the fake-quantized ones."""
        plain = copy.deepcopy(self.net)
        for module in plain.modules():
            module._forward_hooks.clear()
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return plain


def prepare_qat(net: nn.Module, calibration: torch.Tensor) -> QatHandle:
    """Attach fake quantization to ``net`` in place; ``calibration`` images warm up the observers."""
    handle = QatHandle(net)
    for layer, bn in _conv_bn_pairs(net):
        parametrize.register_parametrization(layer, "weight", FoldedWeightFakeQuant(bn))
    for module in net.modules():
        if isinstance(module, (nn.ReLU, nn.ReLU6)):
            handle.observe(module)
    handle.observe(net)  # the logits
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for fq in handle.activation_quant:
            fq.disable_fake_quant()
        for i in range(0, len(calibration), 128):
            net(calibration[i:i + 128])
        for fq in handle.activation_quant:
            fq.enable_fake_quant()
    net.train(was_training)
    return handle
