"""ONNX Runtime static int8 quantization (QDQ format) from the same calibration images as TFLite."""

from __future__ import annotations

import logging
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


def quantize_onnx_static(onnx: Artifact, dst: Path, calib_nchw: np.ndarray, *, per_tensor: bool = False) -> Artifact:
    """Write a QDQ int8 model (int8 weights per-channel by default, int8 activations) calibrated by MinMax."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    if calib_nchw is None or len(calib_nchw) == 0:
        raise EdgeflowError("ONNX int8 quantization needs a non-empty calibration set")

    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR  # quantize_static warns on root about optional pre-processing
    try:
        quantize_static(str(onnx.path), str(dst), SampleReader(calib_nchw), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=not per_tensor)
    finally:
        root.setLevel(level)
    return Artifact.of(dst, "onnx", Precision.INT8, onnx.sha256)
