"""ONNX → TFLite: onnx2tf builds the TensorFlow graph (NCHW → NHWC) and the fp32/fp16 files; the TFLite
converter then quantizes from the same SavedModel with our own calibration images."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path
from typing import Iterable

import numpy as np

from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.runtimes.quiet import native_stderr_captured

FILE_NAMES = {Precision.FP32: "model_fp32.tflite", Precision.FP16: "model_fp16.tflite",
              Precision.DYNAMIC: "model_dynamic.tflite", Precision.INT8: "model_int8.tflite",
              Precision.MIXED: "model_mixed.tflite", Precision.LATENCY: "model_latency.tflite"}
WORK_DIR = ".onnx2tf"  # onnx2tf's SavedModel inside the output folder, while the export runs


def int8_converter(saved_model: Path, calib_nhwc: np.ndarray, *, per_tensor: bool):
    """The TF converter set up for integer quantization from ``saved_model`` with our calibration images
    (shared by the full-int8 file and the mixed-precision fallback, so both calibrate alike)."""
    import tensorflow as tf

    def representative() -> Iterable[list[np.ndarray]]:
        for i in range(len(calib_nhwc)):
            yield [calib_nhwc[i:i + 1]]

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter._experimental_disable_per_channel = per_tensor
    return converter


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _onnx2tf(onnx_path: Path, work: Path) -> None:
    """Write ``work``/model_float32.tflite, model_float16.tflite and the SavedModel (batch pinned to 1)."""
    _quiet_tensorflow()
    import onnx
    import onnx2tf

    from edgeflow.export.onnx2tf_prep import prepare_for_onnx2tf

    # onnx2tf rewrites the file it is given (when pinning the batch): hand it a copy, never the artifact
    (work.parent / ".onnx2tf-src").mkdir(parents=True, exist_ok=True)
    src = onnx.load(str(onnx_path))
    prepare_for_onnx2tf(src)  # e.g. no −3.4e38 MaxPool padding for int8 calibration to see
    onnx_path = work.parent / ".onnx2tf-src" / "model.onnx"
    onnx.save(src, str(onnx_path))
    graph_input = src.graph.input[0]
    dims = [d.dim_value for d in graph_input.type.tensor_type.shape.dim][1:]
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            onnx2tf.convert(input_onnx_file_path=str(onnx_path), output_folder_path=str(work),
                            overwrite_input_shape=[f"{graph_input.name}:1,{','.join(map(str, dims))}"],
                            output_signaturedefs=True, not_use_onnxsim=True, verbosity="error")
    except OSError:  # a full disk or a permission: the CLI names those itself, it is not the net's fault
        raise
    except Exception as e:  # onnx2tf raises whatever its op converter raised: name the op and the layer
        raise EdgeflowError(unconvertible(src, e)) from e
    if not (work / "model_float32.tflite").is_file():
        raise RuntimeError(f"onnx2tf wrote no model_float32.tflite:\n{log.getvalue()[-2000:]}")


def unconvertible(model, error: Exception) -> str:
    """One line for an ONNX node onnx2tf could not convert: its op type, its name (for a PyTorch export, the
    module path of the layer, e.g. ``/blocks.2/pool/LpPool``) and onnx2tf's reason."""
    name = getattr(error, "onnx_op_name", None)  # onnx2tf attaches the failing node's name
    node = next((n for n in model.graph.node if name and n.name.lstrip("/") == name.lstrip("/")), None)
    op = node.op_type if node is not None else "an op"
    if isinstance(error, ModuleNotFoundError) and error.name and error.name.startswith("onnx2tf.ops."):
        op, reason = error.name.rsplit(".", 1)[1], "onnx2tf has no converter for this op"
    else:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    if node is None and not reason.startswith("onnx2tf has no"):
        return f"onnx2tf failed: {reason}"
    where = f" at layer {name!r}" if name else ""
    return (f"onnx2tf cannot convert {op}{where}: {reason}. Replace that layer with ops onnx2tf supports "
            "(see its README's op list), or export it differently")


def _quantize(work: Path, precision: Precision, calib_nhwc: np.ndarray | None, *, float_io: bool,
              per_tensor: bool) -> bytes:
    import tensorflow as tf

    if precision is Precision.INT8:
        assert calib_nhwc is not None
        converter = int8_converter(work, calib_nhwc, per_tensor=per_tensor)
        if not float_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        return converter.convert()
    if precision is not Precision.DYNAMIC:
        raise EdgeflowError(f"{precision.value} is not a precision the TFLite converter writes directly")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(work))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter._experimental_disable_per_channel = per_tensor
    return converter.convert()


def export_tflite(onnx: Artifact, out_dir: Path, precisions: list[Precision], *,
                  calib_nchw: np.ndarray | None = None, float_io: bool = False,
                  per_tensor: bool = False, keep_saved_model: bool = False) -> dict[Precision, Artifact]:
    """Convert ``onnx`` into one .tflite per requested precision inside ``out_dir``.

    ``calib_nchw`` holds preprocessed calibration inputs (NCHW float32, as the net sees them); it is
    required for INT8 and transposed to the NHWC layout of the TFLite graph here. ``keep_saved_model``
    leaves onnx2tf's SavedModel in ``out_dir``/WORK_DIR on success (the caller removes it).
    """
    if Precision.INT8 in precisions and (calib_nchw is None or len(calib_nchw) == 0):
        raise EdgeflowError("int8 export needs a non-empty calibration set")
    work = out_dir / WORK_DIR
    shutil.rmtree(work, ignore_errors=True)
    ok = False
    try:
        with native_stderr_captured():  # TensorFlow's C++ start-up and converter chatter
            _onnx2tf(onnx.path, work)
        made: dict[Precision, Artifact] = {}
        for p in precisions:
            dst = out_dir / FILE_NAMES[p]
            if p is Precision.FP32:
                shutil.copyfile(work / "model_float32.tflite", dst)
            elif p is Precision.FP16:
                shutil.copyfile(work / "model_float16.tflite", dst)
            elif p in (Precision.MIXED, Precision.LATENCY):
                raise EdgeflowError(f"the {p.value} model is made by export --int8 with --fallback auto or "
                                    "--optimize latency")
            else:
                calib = None if calib_nchw is None else np.ascontiguousarray(calib_nchw.transpose(0, 2, 3, 1))
                with native_stderr_captured():
                    dst.write_bytes(_quantize(work, p, calib, float_io=float_io, per_tensor=per_tensor))
            made[p] = Artifact.of(dst, "tflite", p, onnx.sha256)
        ok = True
        return made
    finally:
        if not (ok and keep_saved_model):
            shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(out_dir / ".onnx2tf-src", ignore_errors=True)
