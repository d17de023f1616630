"""``edgeflow parity``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

ALL_PRECISIONS = "fp32,fp16,dynamic,int8"


def parity(
    name: Annotated[str, typer.Argument(help="Registered model name (see `edgeflow models list`).")],
    precisions: Annotated[str, typer.Option(help="TFLite precisions, comma-separated.")] = ALL_PRECISIONS,
    onnx_int8: Annotated[bool, typer.Option(help="Include ONNX Runtime int8 (static QDQ).")] = True,
    per_tensor: Annotated[bool, typer.Option("--per-tensor", help="Per-tensor weight scales (default per-channel).")] = False,
    layers: Annotated[bool, typer.Option("--layers", help="Name the layers that lose most to int8 quantization.")] = False,
    top: Annotated[int, typer.Option(min=1, help="How many worst layers to print.")] = 10,
    layer_samples: Annotated[int, typer.Option(min=1, help="Test images used for the per-layer comparison.")] = 200,
    plot: Annotated[bool, typer.Option("--plot", help="Write parity.png: accuracy vs model size.")] = False,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint [default: models/NAME/weights.pt].")] = None,
    random_init: Annotated[bool, typer.Option("--random-init", help="Untrained weights (seed 0).")] = False,
    out: Annotated[Optional[Path], typer.Option(help="Output folder [default: export/NAME.parity, replaced on each "
                                                     "run]. An existing --out folder is replaced only with --force, and "
                                                     "only when edgeflow made it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder made by edgeflow.")] = False,
    data: Annotated[str, typer.Option(help="Dataset for calibration (train) and parity (test).")] = "fashion-mnist-embedded",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset files.")] = None,
    parity_samples: Annotated[Optional[int], typer.Option(min=1, help="Test images [default: all].")] = None,
    calib_samples: Annotated[int, typer.Option(min=1, help="Training images used to calibrate int8.")] = 500,
    bench: Annotated[bool, typer.Option(help="Also measure latency and memory.")] = False,
    max_abs_diff: Annotated[Optional[float], typer.Option(help="Gate: fp32 max |logit diff| vs PyTorch (plus the card's fp32_max_rel_diff × max |logit|).")] = None,
    min_agreement: Annotated[Optional[float], typer.Option(help="Gate: fp32 top-1 agreement (0-1).")] = None,
    max_int8_drop: Annotated[Optional[float], typer.Option(help="Gate: int8 accuracy drop, pp.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print parity.json instead of the table.")] = False,
) -> None:
    """Run NAME through every runtime and precision on the same real images and gate each against PyTorch.

    Chain: PyTorch → ONNX Runtime fp32 / int8 (QDQ) → TFLite fp32 / fp16 / dynamic / int8. Gates come from
    the card's [tolerances]. Writes parity.json, parity.md (also appended to $GITHUB_STEP_SUMMARY when set)
    and, with --layers, layers.json. Exit 0 all gates hold, 1 a gate failed, 2 bad input.
    """
    from edgeflow.cli.report import gate_overrides, run_and_report
    from edgeflow.errors import EdgeflowError, GateFailure
    from edgeflow.export.artifact import Precision
    from edgeflow.paths import export_dir
    from edgeflow.pipeline import ExportOptions
    from edgeflow.registry import check_model_name

    check_model_name(name)
    try:
        chosen = tuple(Precision(p.strip()) for p in precisions.split(",") if p.strip())
    except ValueError as e:
        raise EdgeflowError(f"unknown precision in {precisions!r}; use some of {ALL_PRECISIONS}") from e
    if layers and not onnx_int8:
        raise EdgeflowError("--layers compares the float and int8 ONNX models: drop --no-onnx-int8")
    opts = ExportOptions(precisions=chosen, onnx_int8=onnx_int8, per_tensor=per_tensor, checkpoint=checkpoint,
                         # the default folder is edgeflow's scratch space; a folder the user names needs --force
                         random_init=random_init, out_dir=out or export_dir() / f"{name}.parity",
                         force=force or out is None,
                         data=data, data_dir=data_dir, parity_samples=parity_samples, calib_samples=calib_samples,
                         bench=bench, gates=gate_overrides(max_abs_diff, min_agreement, max_int8_drop))
    failure = None
    try:
        result = run_and_report(name, opts, json_out=json_out)
    except GateFailure as e:  # still localise and plot: that is when they are needed most
        failure, result = e, e.result
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write((result.out_dir / "parity.md").read_text())
    if layers:
        _print_layers(name, result, top, layer_samples, data, data_dir)
    if plot:
        _plot(name, result)
    if failure:
        raise failure


def _print_layers(name, result, top, samples, data, data_dir) -> None:
    from edgeflow.cards import get_card
    from edgeflow.cli.tables import console
    from edgeflow.data import load_dataset, preprocess
    from edgeflow.files import write_json
    from edgeflow.localize import layer_errors, tflite_layer_errors

    card = get_card(name)
    test = load_dataset(data, "test", data_dir).subset(samples)
    x = preprocess(test.images, card.mean, card.std)
    out = result.out_dir
    found = {}
    with console.status("per-layer comparison, float vs int8"):
        found["onnxruntime int8 (QDQ)"] = layer_errors(out / "model.onnx", out / "model_int8_qdq.onnx", x)
        if (out / "model_int8.tflite").is_file():
            found["tflite int8"] = tflite_layer_errors(out / "model.onnx", out / "model_int8.tflite", x)
    write_json(out / "layers.json", {"model": name, "samples": len(test),
                                     **{k: [r.to_dict() for r in rows] for k, rows in found.items()}})
    for label, rows in found.items():
        console.print(_layer_table(f"{top} layers that lose most to int8: {label}, {len(test)} images", rows[:top]))


def _layer_table(title, rows):
    from rich.table import Table

    t = Table(title=title)
    for col in ("#", "tensor (float ONNX)", "op", "local SQNR dB", "cumulative SQNR dB"):
        t.add_column(col, justify="left" if col in ("tensor (float ONNX)", "op") else "right")
    for i, r in enumerate(rows, 1):
        cum = "-" if r.cumulative_sqnr_db is None else f"{r.cumulative_sqnr_db:.1f}"
        t.add_row(str(i), r.tensor, r.op_type, f"{r.local_sqnr_db:.1f}", cum)
    return t


def _plot(name, result) -> None:
    from edgeflow.cli.tables import console
    from edgeflow.plots import accuracy_vs_size

    sizes = {(a["format"], a["precision"]): a["bytes"] for a in result.manifest["artifacts"]}
    fmt = {"onnxruntime": "onnx", "tflite": "tflite"}
    points = [(r.label, sizes[(fmt[r.runtime], r.precision)] / 1024, 100 * r.accuracy) for r in result.parity.rows]
    accuracy_vs_size(points, result.out_dir / "parity.png", f"{name}: top-1 vs size")
    console.print(f"wrote {result.out_dir / 'parity.png'}")
