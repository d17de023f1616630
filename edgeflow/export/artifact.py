"""Typed values passed between export stages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from edgeflow.files import file_sha256


class Precision(str, Enum):
    """Numeric formats an artifact can hold."""

    FP32 = "fp32"
    FP16 = "fp16"
    DYNAMIC = "dynamic"  # int8 weights, float activations
    INT8 = "int8"  # full integer: int8 weights and activations
    MIXED = "mixed"  # int8 but for a few layers kept in float (export --fallback auto)
    LATENCY = "latency"  # int8 but for the op types the target runs faster in float (export --optimize latency)


@dataclass(frozen=True)
class Artifact:
    """One file produced by export, with what it is and what it came from."""

    path: Path
    format: str  # "onnx" | "tflite"
    precision: Precision
    sha256: str
    parent: str | None = None  # sha256 of the artifact (or checkpoint) it was made from

    @classmethod
    def of(cls, path: Path, fmt: str, precision: Precision, parent: str | None = None) -> "Artifact":
        return cls(path, fmt, precision, file_sha256(path), parent)

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size
