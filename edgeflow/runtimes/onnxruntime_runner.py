"""ONNX Runtime runner (CPU execution provider)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeflow.runtimes.base import Runner


class OnnxRuntimeRunner(Runner):
    name = "onnxruntime"

    def __init__(self, path: Path, threads: int | None = None, providers: list[str] | None = None,
                 precision: str = "fp32") -> None:
        self.path, self.threads, self.precision = path, threads, precision
        self.providers = providers or ["CPUExecutionProvider"]
        self.session = None

    def load(self) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if self.threads:
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.path), opts, providers=self.providers)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.batch = inp.shape[0] if isinstance(inp.shape[0], int) else None

    def infer(self, batch: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(batch, np.float32)
        if self.batch is None or self.batch == len(x):
            return self.session.run(None, {self.input_name: x})[0]
        # the exported graph has a fixed batch of 1: run sample by sample
        return np.concatenate([self.session.run(None, {self.input_name: x[i:i + 1]})[0] for i in range(len(x))])

    def close(self) -> None:
        self.session = None
