"""ONNX Runtime static int8 quantization (QDQ format) from the same calibration images as TFLite.

Weights are int8 either way; activations are int8 (S8S8) or uint8 (U8S8). Which runs faster depends on the
CPU's kernels (on an x86 with AVX-512 VNNI, U8S8 was ~2.6x faster than S8S8 at 28x28), so
``quantize_onnx_fastest`` writes both, times them here and keeps the faster, recording what it measured.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision

QDQ_FILE = "model_int8_qdq.onnx"


class SampleReader:
    """ONNX Runtime's calibration-reader protocol (``get_next``, iteration) over NCHW samples, one per call;
    used to calibrate (``quantize_static``) and to collect activations (``check.localize``)."""

    def __init__(self, x_nchw: np.ndarray) -> None:
        self.it = iter(np.ascontiguousarray(x_nchw[i:i + 1], np.float32) for i in range(len(x_nchw)))

    def get_next(self) -> dict | None:
        batch = next(self.it, None)
        return None if batch is None else {"input": batch}

    def __iter__(self):
        return iter(self.get_next, None)


ACTIVATION_TYPES = ("int8", "uint8")


def quantize_onnx_static(onnx: Artifact, dst: Path, calib_nchw: np.ndarray, *, per_tensor: bool = False,
                         activations: str = "int8") -> Artifact:
    """Write a QDQ int8 model (int8 weights per-channel by default; ``activations`` int8 or uint8) calibrated
    by MinMax."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    if calib_nchw is None or len(calib_nchw) == 0:
        raise EdgeflowError("ONNX int8 quantization needs a non-empty calibration set")

    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR  # quantize_static warns on root about optional pre-processing
    try:
        quantize_static(str(onnx.path), str(dst), SampleReader(calib_nchw), quant_format=QuantFormat.QDQ,
                        activation_type={"int8": QuantType.QInt8, "uint8": QuantType.QUInt8}[activations],
                        weight_type=QuantType.QInt8, per_channel=not per_tensor)
    finally:
        root.setLevel(level)
    return Artifact.of(dst, "onnx", Precision.INT8, onnx.sha256)


@dataclass(frozen=True)
class ActivationChoice:
    """Which activation type the QDQ model got, and the single-image p50 of each candidate that decided it."""

    activation_type: str
    p50_ms: dict[str, float]
    threads: int
    iters: int

    def to_dict(self) -> dict:
        return {"activation_type": self.activation_type, "chosen_by": "faster p50 on the exporting host",
                "p50_ms": self.p50_ms, "threads": self.threads, "iters": self.iters}


def quantize_onnx_fastest(onnx: Artifact, dst: Path, calib_nchw: np.ndarray, *, per_tensor: bool = False,
                          threads: int = 1, iters: int = 60) -> tuple[Artifact, ActivationChoice]:
    """Quantize with int8 and with uint8 activations, time both on ONNX Runtime (``threads``, rounds
    interleaved so a noisy neighbour hits both alike) and keep the faster at ``dst``."""
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
        made = {a: quantize_onnx_static(onnx, Path(tmp) / f"{a}.onnx", calib_nchw, per_tensor=per_tensor,
                                        activations=a) for a in ACTIVATION_TYPES}
        p50 = _interleaved_p50({a: m.path for a, m in made.items()}, calib_nchw[:1], threads, iters)
        best = min(p50, key=p50.get)
        made[best].path.replace(dst)
    return Artifact.of(dst, "onnx", Precision.INT8, onnx.sha256), ActivationChoice(best, p50, threads, iters)


def _interleaved_p50(models: dict[str, Path], x: np.ndarray, threads: int, iters: int, rounds: int = 6) -> dict:
    from edgeflow.devices.ondevice_bench import time_loop
    from edgeflow.runtimes.onnxruntime_runner import OnnxRuntimeRunner

    runners = {k: OnnxRuntimeRunner(p, threads=threads) for k, p in models.items()}
    times: dict[str, list[float]] = {k: [] for k in models}
    for r in runners.values():
        r.load()
    for _ in range(rounds):
        for k, r in runners.items():
            times[k] += time_loop(lambda r=r: r.infer(x), warmup=3, iters=max(1, iters // rounds))
    for r in runners.values():
        r.close()
    return {k: round(float(np.median(v)), 4) for k, v in times.items()}
