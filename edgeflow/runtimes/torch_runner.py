"""PyTorch eager runner."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from edgeflow.runtimes.base import Runner


class TorchRunner(Runner):
    name = "pytorch"

    def __init__(self, model: nn.Module, threads: int | None = None) -> None:
        self.model = model.eval()
        self.threads = threads

    def load(self) -> None:
        if self.threads:
            torch.set_num_threads(self.threads)
        # channels_last runs this zoo's depthwise convs ~1.7x faster on CPU; the model is restored on close
        self.model.to(memory_format=torch.channels_last)

    def close(self) -> None:
        self.model.to(memory_format=torch.contiguous_format)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(batch, np.float32)).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return self.model(x).numpy()
