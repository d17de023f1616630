"""Selective int8 quantization: the TF converter's QuantizationDebugger keeps chosen layers in float.

The debugger (``tf.lite.experimental.QuantizationDebugger``) calibrates the SavedModel once, measures every
quantized layer against its float twin on the same (quantized) input, and re-quantizes the calibrated model
with a denylist of layers (``QuantizationDebugOptions(denylisted_nodes=...)``: TFLite output tensor names)
that stay float, without calibrating again. No flatbuffer is edited by hand.

A model with denylisted layers keeps float32 input and output: the converter quantizes at the first integer
op and dequantizes after the last one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeflow.runtimes.quiet import native_output_captured


@dataclass(frozen=True)
class LayerScore:
    """One quantized layer as the debugger sees it: its error in units of its own int8 step."""

    tensor: str  # TFLite output tensor name: what ``denylisted_nodes`` takes
    op: str  # TFLite builtin op, e.g. DEPTHWISE_CONV_2D
    rmse_per_scale: float  # √(mean squared error vs float) / output scale: ≈0.3 is rounding alone

    def to_dict(self) -> dict:
        return asdict(self)


class MixedQuantizer:
    """Builds int8 models from ``saved_model`` that keep the given layers in float; ``ranked`` scores them."""

    def __init__(self, saved_model: Path, calib_nhwc: np.ndarray, *, per_tensor: bool, debug_samples: int = 100):
        import tensorflow as tf

        from edgeflow.export.tflite import _quiet_tensorflow, int8_converter

        _quiet_tensorflow()
        converter = int8_converter(saved_model, calib_nhwc, per_tensor=per_tensor)
        debug = calib_nhwc[:debug_samples]

        def debug_dataset():
            for i in range(len(debug)):
                yield [debug[i:i + 1]]

        with native_output_captured():  # the converter's C++ chatter (stdout and stderr)
            self._debugger = tf.lite.experimental.QuantizationDebugger(converter=converter,
                                                                       debug_dataset=debug_dataset)

    def ranked(self) -> list[LayerScore]:
        """Every quantized layer, worst first (largest error per quantization step), from the debugger's
        NumericVerify ops: each layer's float and int8 results from the same quantized input, so a layer is
        blamed for its own error only (the TF "Inspecting quantization errors" recipe, rmse/scale)."""
        import io
        import csv

        with native_output_captured():
            self._debugger.run()
            dump = io.StringIO()
            self._debugger.layer_statistics_dump(dump)  # the public way to get tensor names and scales
        rows = []
        for r in csv.DictReader(io.StringIO(dump.getvalue())):
            scale = float(r["scale"])
            score = float(np.sqrt(float(r["mean_squared_error"]))) / scale if scale > 0 else 0.0
            rows.append(LayerScore(r["tensor_name"], r["op_name"], score))
        return sorted(rows, key=lambda s: -s.rmse_per_scale)

    def build(self, keep_float: list[str] = (), *, float_ops: list[str] = ()) -> bytes:
        """The int8 model with the layers named in ``keep_float`` (TFLite tensor names) and every op of the
        types in ``float_ops`` (TFLite builtin names, e.g. DEPTHWISE_CONV_2D) left in float."""
        import tensorflow as tf

        options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=list(keep_float),
                                                                denylisted_ops=list(float_ops))
        with native_output_captured():
            self._debugger.options = options  # re-quantizes the calibrated model (no new calibration)
            return self._debugger.get_nondebug_quantized_model()
