"""Desktop GPU: PyTorch CUDA and ONNX Runtime (CUDA / TensorRT execution providers) as runners.

Never falls back to the CPU: without a usable GPU the profile is reported unavailable, with the reason.
A CPU-only onnxruntime beside a CUDA torch leaves the PyTorch CUDA runner, and says what is missing.
"""

from __future__ import annotations

from edgeflow.errors import EdgeflowError


def gpu_status() -> tuple[bool, str, list[str]]:
    """(usable, description or reason, ONNX Runtime GPU providers). Usable means torch sees CUDA."""
    import onnxruntime as ort
    import torch

    providers = [p for p in ort.get_available_providers() if p in ("TensorrtExecutionProvider", "CUDAExecutionProvider")]
    if not torch.cuda.is_available():
        return False, "torch.cuda.is_available() is False (no NVIDIA driver/GPU, or a CPU-only torch build)", providers
    return True, f"{torch.cuda.get_device_name(0)}", providers


def missing_ort_gpu(providers: list[str]) -> str:
    """Why no ONNX Runtime GPU runner runs, or '' when one does."""
    if providers:
        return ""
    import onnxruntime as ort

    return (f"onnxruntime {ort.__version__} has no CUDAExecutionProvider (install onnxruntime-gpu); available: "
            f"{', '.join(ort.get_available_providers())}")


def require_gpu(device: str) -> list[str]:
    ok, reason, providers = gpu_status()
    if not ok:
        raise EdgeflowError(f"device {device} is unavailable: {reason}. Nothing was run on the CPU instead.")
    return providers


def gpu_runners(model, onnx_path, device: str) -> list:
    """PyTorch CUDA (a copy of ``model``) and ONNX Runtime CUDA (+ TensorRT where present) runners for parity
    on a desktop GPU."""
    import copy

    import numpy as np
    import torch

    from edgeflow.runtimes.base import Runner
    from edgeflow.runtimes.onnxruntime_runner import OnnxRuntimeRunner

    providers = require_gpu(device)
    # fp32 must mean fp32: cuDNN runs fp32 convolutions in TF32 on Ampere and later by default, which
    # gave 7.4e-3 max |diff| on an H100, 60x the fp32 gate (models/sep_res18_s3, 1,000 images).
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    model = copy.deepcopy(model).eval().cuda()

    class TorchCudaRunner(Runner):
        name, precision = "pytorch-cuda", "fp32"

        def infer(self, batch: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return model(torch.from_numpy(np.ascontiguousarray(batch, np.float32)).cuda()).float().cpu().numpy()

    runners: list = [TorchCudaRunner()]
    for p in providers:
        r = OnnxRuntimeRunner(onnx_path, providers=[p])
        r.name = {"CUDAExecutionProvider": "onnxruntime-cuda", "TensorrtExecutionProvider": "onnxruntime-trt"}[p]
        runners.append(r)
    return runners
