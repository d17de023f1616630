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

    def infer(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model(torch.from_numpy(np.ascontiguousarray(batch, np.float32))).numpy()
