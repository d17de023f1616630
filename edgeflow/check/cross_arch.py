"""An emulated ARM device's outputs against this host's, both under XNNPACK: int8 must be bit-exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeflow.runtimes.tflite_runner import TFLiteRunner


def cross_arch_check(model: Path, x, device_logits, record: dict) -> dict:
    """Compare an (emulated) ARM device's outputs with this host's, both under XNNPACK, one thread.

    int8 must be bit-exact (differences are counted in output LSBs); float within 1e-5. A device that ran
    without XNNPACK fails: its built-in kernels are not what a real board runs by default.
    """
    with TFLiteRunner(model, record["precision"], threads=1) as host:
        host_logits = host.infer_all(x)
    diff = np.abs(device_logits.astype(np.float64) - host_logits)
    result = {"host_kernels": "XNNPACK", "device_kernels": "XNNPACK" if record.get("xnnpack") else "built-in",
              "max_abs_diff": float(diff.max())}
    scale = record["output"]["quantization"][0]
    if record["output"]["dtype"] == "int8" and scale:
        lsb = np.rint(diff / scale).astype(int)
        result.update(bit_exact=bool((lsb == 0).all()), lsb_max=int(lsb.max()), values_off=int((lsb > 0).sum()),
                      values=int(lsb.size))
        if not result["bit_exact"]:
            result["failure"] = (f"int8 not bit-exact vs host: {result['values_off']}/{lsb.size} values off, "
                                 f"up to {result['lsb_max']} LSB")
    elif record["precision"] == "int8":  # integer inside, a float output (litert-torch's): the same floats
        result.update(bit_exact=bool(diff.max() == 0.0), values=int(diff.size))
        if not result["bit_exact"]:
            result["failure"] = f"int8 (float output) not bit-exact vs host: outputs differ by up to {diff.max():.2e}"
    elif diff.max() > 1e-5:
        result["failure"] = f"float outputs differ from the host's by {diff.max():.2e} (> 1e-5)"
    if not record.get("xnnpack"):
        result["failure"] = "XNNPACK was not active on the device (CPU detection failed?): not a real board's kernels"
    return result
