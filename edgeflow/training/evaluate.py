"""What the loop trains and measures: every exit of a net at once (``AllExits``), and top-1 accuracy."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn


class AllExits(nn.Module):
    """What the loop trains: every exit's logits (and features), so DDP wraps a single forward."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.multi_exit = hasattr(net, "forward_with_features")

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        if self.multi_exit:
            return self.net.forward_with_features(x)
        return [self.net(x)], []


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    """Top-1 accuracy (fraction) of ``model`` on preprocessed NCHW inputs."""
    return exit_accuracies(AllExits(model), torch.from_numpy(x), torch.from_numpy(y), batch_size)[-1]


def exit_accuracies(view: AllExits, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> list[float]:
    """Top-1 accuracy of every exit (one entry for ordinary nets), run on the device ``view`` is on."""
    view.eval()
    device = next(view.parameters()).device
    correct: np.ndarray | None = None
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            logits, _ = view(x[i:i + batch_size].to(device).contiguous(memory_format=torch.channels_last))
            labels = y[i:i + batch_size].to(device)
            hits = np.array([int((out.argmax(1) == labels).sum()) for out in logits])
            correct = hits if correct is None else correct + hits
    assert correct is not None
    return [float(c) / len(x) for c in correct]
