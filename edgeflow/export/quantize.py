"""ONNX Runtime static int8 quantization (QDQ format) from the same calibration images as TFLite."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision


def quantize_onnx_static(onnx: Artifact, dst: Path, calib_nchw: np.ndarray, *, per_tensor: bool = False) -> Artifact:
    """Write a QDQ int8 model (int8 weights per-channel by default, int8 activations) calibrated by MinMax."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    if calib_nchw is None or len(calib_nchw) == 0:
        raise EdgeflowError("ONNX int8 quantization needs a non-empty calibration set")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.samples = iter(calib_nchw[i:i + 1] for i in range(len(calib_nchw)))

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.samples, None)
            return None if batch is None else {"input": np.ascontiguousarray(batch, np.float32)}

    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR  # quantize_static warns on root about optional pre-processing
    try:
        quantize_static(str(onnx.path), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=not per_tensor)
    finally:
        root.setLevel(level)
    return Artifact.of(dst, "onnx", Precision.INT8, onnx.sha256)
