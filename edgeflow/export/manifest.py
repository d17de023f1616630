"""manifest.json: what was exported, from what, with which tools, and the input contract for a device."""

from __future__ import annotations

from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.files import file_sha256, read_json
from edgeflow.zoo.cards import ModelCard

TOOLS = ("edgeflow", "torch", "onnx", "onnxsim", "onnxruntime", "onnx2tf", "tensorflow", "ai-edge-litert", "numpy",
         "litert-torch")


def tool_versions() -> dict[str, str]:
    found = {}
    for name in TOOLS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def input_contract(card: ModelCard, tflite_info: dict[Precision, dict]) -> dict[str, Any]:
    """Everything a device needs to feed the model and read its answer, and nothing else."""
    contract: dict[str, Any] = {
        "onnx_input": {"shape": list(card.input_shape), "layout": "NCHW", "dtype": "float32"},
        "tflite_input": {"shape": [1, card.img_size, card.img_size, card.in_chans], "layout": "NHWC"},
        "pixel_scaling": "x / 255 (uint8 pixels to [0, 1])",
        "normalize": "(x - mean) / std, per channel, after pixel scaling",
        "mean": list(card.mean),
        "std": list(card.std),
        "classes": list(card.classes),
    }
    int8 = tflite_info.get(Precision.INT8)
    if int8:
        contract["int8"] = {
            "input": {k: int8["input"][k] for k in ("dtype", "scale", "zero_point")},
            "output": {k: int8["output"][k] for k in ("dtype", "scale", "zero_point")},
            "quantize_input": "q = clip(round(normalized / scale) + zero_point)",
            "dequantize_output": "logits = (q - zero_point) * scale",
        }
    return contract


def build_manifest(*, card: ModelCard, source: dict[str, Any], calibration: dict[str, Any] | None,
                   artifacts: list[Artifact], tflite_info: dict[Precision, dict],
                   parity_data: dict[str, Any] | None = None, converted: dict[str, dict] | None = None,
                   converter_failures: dict[str, str] | None = None) -> dict[str, Any]:
    """``tflite_info``: onnx2tf's files by precision; ``converted``: what another converter's files record, by
    file name (``workflows.litert_path``). ``parity_data``: the dataset (and folder) parity ran on, so a later
    device bench uses the same."""
    converted = converted or {}
    files = []
    for a in artifacts:
        entry = {"file": a.path.name, "format": a.format, "precision": a.precision.value, "sha256": a.sha256,
                 "bytes": a.size_bytes, "parent_sha256": a.parent}
        if a.path.name in converted:
            entry.update(converted[a.path.name])
        elif a.precision in tflite_info and a.format == "tflite":
            info = tflite_info[a.precision]
            entry.update(converter="onnx2tf", fully_integer=info["fully_integer"], integer_io=info["integer_io"],
                         tensor_dtypes=info["tensor_dtypes"])
        files.append(entry)
    return {
        "model": card.name,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source,
        "calibration": calibration,
        "parity_data": parity_data,
        "tools": tool_versions(),
        "artifacts": files,
        "converter_failures": converter_failures or {},
        "input_contract": input_contract(card, tflite_info),
    }



def artifact_runtime(entry: dict[str, Any]) -> str:
    """The runtime label parity and latency rows give a manifest's artifact entry (``onnxruntime``, ``tflite``,
    or ``tflite/litert-torch`` for litert-torch's files)."""
    if entry.get("format") == "onnx":
        return "onnxruntime"
    from edgeflow.export.litert_torch import CONVERTER, RUNTIME

    return RUNTIME if entry.get("converter") == CONVERTER else "tflite"


def verify_artifacts(folder: Path, name: str, files: list[Path]) -> dict[str, Any]:
    """Check each of ``files`` against ``folder``/manifest.json (listed, same sha256) and that the manifest
    is ``name``'s; return the manifest. A file swapped in by hand is refused, naming it."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise EdgeflowError(f"no manifest.json in {folder}: only files edgeflow exported are run; "
                            f"run `edgeflow export {name}`")
    manifest = read_json(path, "manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts"), list):
        raise EdgeflowError(f"{path} is not an edgeflow manifest; re-export with `edgeflow export {name} --force`")
    if manifest.get("model") != name:
        raise EdgeflowError(f"{folder} holds an export of {manifest.get('model')!r}, not {name!r}")
    listed = {a.get("file"): a.get("sha256") for a in manifest["artifacts"] if isinstance(a, dict)}
    for f in files:
        if f.name not in listed:
            raise EdgeflowError(f"{f} is not listed in {path}; re-export with `edgeflow export {name} --force`")
        if file_sha256(f) != listed[f.name]:
            raise EdgeflowError(f"{f} does not match the sha256 in {path}: it is not the file edgeflow exported "
                                f"for {name}. Re-export with `edgeflow export {name} --force`")
    return manifest
