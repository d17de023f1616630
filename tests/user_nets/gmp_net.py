import torch.nn as nn


def build() -> nn.Module:
    """Global max pooling head: litert-torch 0.10 has no lowering for aten.adaptive_max_pool2d."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(16, 10))
