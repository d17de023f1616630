"""``edgeflow export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def export(
    name: Annotated[str, typer.Argument(help="Registered model name (see `edgeflow models list`).")],
    int8: Annotated[bool, typer.Option("--int8", help="Also write a full-integer int8 TFLite model.")] = False,
    float_io: Annotated[bool, typer.Option("--float-io", help="int8 model keeps float32 input/output.")] = False,
    per_tensor: Annotated[bool, typer.Option("--per-tensor", help="Per-tensor weight scales (default per-channel).")] = False,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint [default: models/NAME/weights.pt].")] = None,
    random_init: Annotated[bool, typer.Option("--random-init", help="Export untrained weights (seed 0).")] = False,
    out: Annotated[Optional[Path], typer.Option(help="Output folder [default: export/NAME].")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output folder.")] = False,
    data: Annotated[str, typer.Option(help="Dataset for calibration (train split) and parity (test split).")] = "fashion-mnist-embedded",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset files.")] = None,
    parity_samples: Annotated[Optional[int], typer.Option(min=1, help="Test images for parity [default: all].")] = None,
    calib_samples: Annotated[int, typer.Option(min=1, help="Training images used to calibrate int8.")] = 500,
    threads: Annotated[int, typer.Option(min=1, help="Threads for every runtime's latency run.")] = 1,
    bench_iters: Annotated[int, typer.Option(min=1, help="Timed single-image runs per runtime.")] = 200,
    no_bench: Annotated[bool, typer.Option("--no-bench", help="Skip the latency/memory measurement.")] = False,
    max_abs_diff: Annotated[Optional[float], typer.Option(help="Gate: fp32 max |logit diff| vs PyTorch (plus the card's fp32_max_rel_diff × max |logit|).")] = None,
    min_agreement: Annotated[Optional[float], typer.Option(help="Gate: fp32 top-1 agreement (0-1).")] = None,
    max_int8_drop: Annotated[Optional[float], typer.Option(help="Gate: int8 accuracy drop, pp.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print parity.json instead of the table.")] = False,
    exit_: Annotated[Optional[int], typer.Option("--exit", min=1, help="Self-distillation nets: export shallow "
                                                 "classifier N (1 = shallowest) alone.")] = None,
) -> None:
    """Export NAME to ONNX and TFLite (fp32; int8 with --int8), then check parity and latency.

    Writes export/NAME/: model.onnx, model_fp32.tflite[, model_int8.tflite], manifest.json, parity.json.
    Exit 0 when every gate holds, 1 when a parity gate fails, 2 on bad input.
    """
    from edgeflow.cli.report import gate_overrides, run_and_report
    from edgeflow.export.artifact import Precision
    from edgeflow.pipeline import ExportOptions
    from edgeflow.registry import check_model_name

    check_model_name(name)
    precisions = (Precision.FP32, Precision.INT8) if int8 else (Precision.FP32,)
    opts = ExportOptions(precisions=precisions, float_io=float_io, per_tensor=per_tensor, checkpoint=checkpoint,
                         random_init=random_init, out_dir=out, force=force, data=data, data_dir=data_dir,
                         parity_samples=parity_samples, calib_samples=calib_samples, threads=threads,
                         bench_iters=bench_iters, bench=not no_bench,
                         gates=gate_overrides(max_abs_diff, min_agreement, max_int8_drop), exit=exit_)
    run_and_report(name, opts, json_out=json_out)
