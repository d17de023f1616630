"""A runner over logits computed elsewhere (on a device, by another process), so that the parity engine
compares them exactly like live runners."""

from __future__ import annotations

import numpy as np

from edgeflow.runtimes.base import Runner


class PrecomputedRunner(Runner):
    def __init__(self, name: str, precision: str, logits: np.ndarray) -> None:
        self.name, self.precision, self.logits = name, precision, np.asarray(logits, np.float32)

    def infer_all(self, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
        return self.logits

    def infer(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError("precomputed logits are read whole with infer_all")
