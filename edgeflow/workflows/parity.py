"""What ``edgeflow parity`` adds to an export: per-layer int8 localisation, the accuracy-vs-size plot, and
the CI job summary. Each works on a finished export folder (its files checked against the manifest)."""

from __future__ import annotations

import os
from pathlib import Path

from edgeflow.check.localize import LayerError, layer_errors, tflite_layer_errors
from edgeflow.data import load_dataset, preprocess
from edgeflow.export.artifact import Precision
from edgeflow.export.manifest import artifact_runtime, verify_artifacts
from edgeflow.export.onnx import ONNX_FILE
from edgeflow.export.quantize import QDQ_FILE
from edgeflow.export.tflite import FILE_NAMES as TFLITE_FILES
from edgeflow.files import write_json
from edgeflow.plots import accuracy_vs_size
from edgeflow.zoo.cards import ModelCard, get_card


def localize_int8(name: str, out: Path, *, samples: int, data: str, data_dir: Path | None,
                  card: ModelCard | None = None) -> dict[str, list[LayerError]]:
    """Rank the activations that lose most to int8, for the ONNX Runtime QDQ model and (where exported) the
    TFLite int8 model, on ``samples`` test images; also written to ``out``/layers.json."""
    card = card or get_card(name)
    onnx, qdq, tflite = out / ONNX_FILE, out / QDQ_FILE, out / TFLITE_FILES[Precision.INT8]
    verify_artifacts(out, name, [onnx, qdq, *([tflite] if tflite.is_file() else [])])
    test = load_dataset(data, "test", data_dir, img_size=card.img_size, in_chans=card.in_chans).subset(samples)
    card.check_fits(test)
    x = preprocess(test.images, card.mean, card.std)
    found = {"onnxruntime int8 (QDQ)": layer_errors(onnx, qdq, x)}
    if tflite.is_file():
        found["tflite int8"] = tflite_layer_errors(onnx, tflite, x)
    write_json(out / "layers.json", {"model": name, "samples": len(test),
                                     **{k: [r.to_dict() for r in rows] for k, rows in found.items()}})
    return found


def plot_accuracy_vs_size(name: str, result) -> Path:  # result: workflows.export.ExportResult
    """``parity.png``: top-1 against file size, one point per runtime × precision."""
    sizes = {(artifact_runtime(a), a["precision"]): a["bytes"] for a in result.manifest["artifacts"]}
    points = [(r.label, sizes[(r.runtime, r.precision)] / 1024, 100 * r.accuracy) for r in result.parity.rows]
    path = result.out_dir / "parity.png"
    accuracy_vs_size(points, path, f"{name}: top-1 vs size")
    return path


def append_ci_summary(out: Path) -> None:
    """Append parity.md to the CI job summary ($GITHUB_STEP_SUMMARY) when there is one."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write((out / "parity.md").read_text())
