"""PyTorch → TFLite with Google's direct converter, litert-torch (the optional extra ``edgeflow[litert]``),
beside onnx2tf: no ONNX hop. fp32, and full int8 through PT2E (per-channel symmetric weights, int8
activations, calibrated on the same images as the onnx2tf path). The input is NHWC like onnx2tf's files, so
the same runner, on-device script and parity engine take either converter's files.

What litert-torch leaves in float (e.g. an einsum it does not quantize) is read from the file itself
(``export.inspect``) and reported, never assumed.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch

from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.runtimes.quiet import native_stderr_captured
from edgeflow.zoo.cards import ModelCard

CONVERTER = "litert-torch"
RUNTIME = "tflite/litert-torch"  # how parity and latency rows name this converter's files on LiteRT
FILE_NAMES = {Precision.FP32: "model_fp32.litert-torch.tflite", Precision.INT8: "model_int8.litert-torch.tflite"}
INSTALL = "pip install 'edgeflow[litert]' (litert-torch==0.10.0)"
CALIB_BATCH = 50  # calibration batches (the exported program has a dynamic batch axis)


def installed_version() -> str | None:
    try:
        return version("litert-torch")
    except PackageNotFoundError:
        return None


def require() -> str:
    """litert-torch's version; EdgeflowError saying how to install it when it is missing."""
    found = installed_version()
    if found is None:
        raise EdgeflowError(f"--converter litert-torch needs litert-torch: {INSTALL}")
    return found


def convert_litert_torch(model: torch.nn.Module, card: ModelCard, out_dir: Path, precisions: list[Precision],
                         calib_nchw: np.ndarray | None, parent: str | None) -> dict[Precision, Artifact]:
    """One .tflite per precision (fp32, int8) in ``out_dir``; EdgeflowError naming what litert-torch refused."""
    unsupported = [p.value for p in precisions if p not in FILE_NAMES]
    if unsupported:
        raise EdgeflowError(f"litert-torch writes fp32 and int8 here, not {', '.join(unsupported)}")
    require()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_stderr_captured(), warnings.catch_warnings():  # TensorFlow, torchao and pytree start-up lines
        warnings.simplefilter("ignore")
        import litert_torch

    nhwc = litert_torch.to_channel_last_io(model.eval(), args=[0])
    sample = (torch.zeros(1, card.img_size, card.img_size, card.in_chans),)
    made = {}
    for p in precisions:
        dst = out_dir / FILE_NAMES[p]
        try:
            with native_stderr_captured(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if p is Precision.FP32:
                    litert_torch.convert(nhwc, sample).export(str(dst))
                else:
                    _convert_int8(nhwc, sample, calib_nchw, dst)
        except (EdgeflowError, OSError):  # a full disk or a permission: the CLI names those
            raise
        except Exception as e:  # the converter raises many types; name the op where its message does
            raise EdgeflowError(f"litert-torch cannot convert {card.name} to {p.value}: {_first_line(e)}") from e
        made[p] = Artifact.of(dst, "tflite", p, parent)
    return made


def _convert_int8(nhwc: torch.nn.Module, sample: tuple, calib_nchw: np.ndarray | None, dst: Path) -> None:
    import litert_torch
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    if calib_nchw is None or len(calib_nchw) == 0:
        raise EdgeflowError("int8 export needs a non-empty calibration set")
    quantizer = PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    batch = torch.export.Dim("batch", max=4096)
    program = torch.export.export(nhwc, (sample[0].repeat(2, 1, 1, 1),), dynamic_shapes=(({0: batch},),))
    prepared = prepare_pt2e(program.module(), quantizer)
    calib = torch.from_numpy(np.ascontiguousarray(calib_nchw.transpose(0, 2, 3, 1), np.float32))
    with torch.no_grad():
        for chunk in calib.split(CALIB_BATCH):
            prepared(chunk)
    quantized = convert_pt2e(prepared, fold_quantize=False)
    litert_torch.convert(quantized, sample, quant_config=QuantConfig(pt2e_quantizer=quantizer)).export(str(dst))


def _first_line(e: Exception) -> str:
    """The line of litert-torch's error that says what failed, with the op named where it is one it cannot
    lower ("Lowering not found: aten.adaptive_max_pool2d.default")."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    for line in lines:
        found = re.search(r"Lowering not found: aten\.(\w+)", line)
        if found:
            return f"it has no lowering for the op aten.{found.group(1)} ({line})"[:240]
    return (lines[0] if lines else type(e).__name__)[:240]
