"""LiteRT (TFLite) runner. Layout and int8 conversion come from the on-device script, so the host and
the device convert inputs and outputs with the very same code."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgeflow.devices.ondevice_bench import from_model_output, to_model_input
from edgeflow.runtimes.base import Runner
from edgeflow.runtimes.quiet import native_stderr_captured


class TFLiteRunner(Runner):
    name = "tflite"

    def __init__(self, path: Path, precision: str = "fp32", threads: int | None = None) -> None:
        """``threads`` None uses every core."""
        self.path, self.precision, self.threads = path, precision, threads
        self.interpreter = None

    def load(self) -> None:
        from ai_edge_litert.interpreter import Interpreter

        with native_stderr_captured():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=self.threads or os.cpu_count())
            self.interpreter.allocate_tensors()
        self.inp = self.interpreter.get_input_details()[0]
        self.out = self.interpreter.get_output_details()[0]

    def _resize(self, n: int) -> None:
        if self.inp["shape"][0] != n:
            self.interpreter.resize_tensor_input(self.inp["index"], [n, *self.inp["shape"][1:]])
            self.interpreter.allocate_tensors()
            self.inp = self.interpreter.get_input_details()[0]
            self.out = self.interpreter.get_output_details()[0]

    def _invoke(self) -> None:
        try:
            self.interpreter.invoke()
        except RuntimeError as e:  # a kernel refused the data, e.g. an int8 DIV by a zero-quantized divisor
            from edgeflow.errors import EdgeflowError

            raise EdgeflowError(f"LiteRT failed to run {self.path.name}: {str(e).strip().splitlines()[0]}") from e

    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Batched when the graph allows a free batch axis (shape signature -1), else sample by sample;
        per-sample quantization parameters are the same either way."""
        if self.inp["shape_signature"][0] == -1:
            self._resize(len(batch))
            self.interpreter.set_tensor(self.inp["index"], to_model_input(batch, self.inp))
            self._invoke()
            y = self.interpreter.get_tensor(self.out["index"])
            return from_model_output(y, self.out)
        logits = []
        for i in range(len(batch)):
            self.interpreter.set_tensor(self.inp["index"], to_model_input(batch[i:i + 1], self.inp))
            self._invoke()
            logits.append(from_model_output(self.interpreter.get_tensor(self.out["index"]), self.out))
        return np.concatenate(logits)

    def close(self) -> None:
        self.interpreter = None
