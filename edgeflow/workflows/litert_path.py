"""The second converter in an export (``--converter litert-torch|all``): litert-torch's files beside
onnx2tf's, each checked from its own tensors, compared by the same parity engine and timed by the same
latency runner. With ``all``, a litert-torch failure marks its rows failed and onnx2tf still delivers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from edgeflow.check.latency import BenchRecord, BenchSpec, benchmark
from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.export.inspect import inspect_tflite
from edgeflow.export.litert_torch import CONVERTER, FILE_NAMES, RUNTIME, convert_litert_torch, require
from edgeflow.runtimes.tflite_runner import TFLiteRunner
from edgeflow.zoo.cards import ModelCard

CONVERTERS = ("onnx2tf", CONVERTER)


@dataclass
class ConvertedFiles:
    files: dict[Precision, Artifact] = field(default_factory=dict)
    manifest_fields: dict[str, dict] = field(default_factory=dict)  # file name → what the manifest records
    failures: dict[str, str] = field(default_factory=dict)  # converter → why it delivered nothing

    def runners(self) -> list[TFLiteRunner]:
        found = []
        for p, a in self.files.items():
            runner = TFLiteRunner(a.path, p.value)
            runner.name = RUNTIME
            found.append(runner)
        return found

    def bench(self, **kw) -> list[BenchRecord]:
        return [replace(benchmark(BenchSpec("tflite", p.value, a.path), **kw), runtime=RUNTIME)
                for p, a in self.files.items()]


def parse_converters(text: str) -> tuple[str, ...]:
    """``--converter onnx2tf|litert-torch|all`` as the converters to run."""
    if text == "all":
        return CONVERTERS
    if text not in CONVERTERS:
        raise EdgeflowError(f"unknown converter {text!r}; use onnx2tf, litert-torch or all")
    return (text,)


def convert_second(model: torch.nn.Module | None, card: ModelCard, stage: Path, precisions: list[Precision],
                   calib: np.ndarray | None, parent: str | None, *, alone: bool,
                   step: Callable[[str], None]) -> ConvertedFiles:
    """litert-torch's fp32/int8 files; its failure raises when it is the only converter (``alone``), else it
    is recorded and the export goes on with onnx2tf's files."""
    wanted = [p for p in precisions if p in FILE_NAMES]
    try:
        version = require()
        if model is None:
            raise EdgeflowError("litert-torch converts PyTorch nets; an .onnx source goes through onnx2tf only")
        step(f"convert with litert-torch ({', '.join(p.value for p in wanted)})")
        files = convert_litert_torch(model, card, stage, wanted, calib, parent)
    except EdgeflowError as e:
        if alone:
            raise
        step(f"litert-torch failed: {e}")
        return ConvertedFiles(failures={CONVERTER: str(e)})
    fields = {}
    for a in files.values():
        info = inspect_tflite(a.path)
        fields[a.path.name] = {"converter": CONVERTER, "converter_version": version,
                               **{k: info[k] for k in ("fully_integer", "integer_io", "tensor_dtypes", "input",
                                                       "output")}}
    return ConvertedFiles(files, fields)
