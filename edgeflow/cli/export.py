"""``edgeflow export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeflow.cli.options import (CalibSamples, Checkpoint, Data, DataDir, JsonOut, MaxAbsDiff, MaxInt8Drop,
                                  MinAgreement, MinInt8Agreement, ParitySamples, PerTensor, RandomInit)
from edgeflow.cli.options import CalibDir, CardFile, Classes, Converter, InputShape, Mean, ModelSpec, Std


def export(
    name: ModelSpec,
    int8: Annotated[bool, typer.Option("--int8", help="Also write a full-integer int8 TFLite model.")] = False,
    float_io: Annotated[bool, typer.Option("--float-io", help="int8 model keeps float32 input/output.")] = False,
    per_tensor: PerTensor = False,
    fallback: Annotated[str, typer.Option(help="auto: when full int8 misses its gate, also write model_mixed.tflite "
                                          "with the fewest layers kept in float that meet it (none: off).")] = "none",
    optimize: Annotated[str, typer.Option(help="latency: also write model_latency.tflite, keeping in float the op "
                                          "types --target runs slower in int8 (measured there), when that is "
                                          "faster than full int8 and meets the int8 gate (none: off).")] = "none",
    target: Annotated[Optional[str], typer.Option(help="Device profile --optimize latency profiles and times on "
                                                  "(see `edgeflow devices list`) [default: local].")] = None,
    checkpoint: Checkpoint = None,
    random_init: RandomInit = False,
    out: Annotated[Optional[Path], typer.Option(help="Output folder [default: export/NAME].")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output folder.")] = False,
    data: Data = "fashion-mnist-embedded",
    data_dir: DataDir = None,
    parity_samples: ParitySamples = None,
    calib_samples: CalibSamples = 500,
    calib: CalibDir = None,
    converter: Converter = "onnx2tf",
    threads: Annotated[int, typer.Option(min=1, help="Threads for every runtime's latency run.")] = 1,
    bench_iters: Annotated[int, typer.Option(min=1, help="Timed single-image runs per runtime.")] = 200,
    no_bench: Annotated[bool, typer.Option("--no-bench", help="Skip the latency/memory measurement.")] = False,
    max_abs_diff: MaxAbsDiff = None,
    min_agreement: MinAgreement = None,
    max_int8_drop: MaxInt8Drop = None,
    min_int8_agreement: MinInt8Agreement = None,
    json_out: JsonOut = False,
    card: CardFile = None,
    input_shape: InputShape = None,
    mean: Mean = None,
    std: Std = None,
    classes: Classes = None,
    exit_: Annotated[Optional[int], typer.Option("--exit", min=1, help="Self-distillation nets: export shallow "
                                                 "classifier N (1 = shallowest) alone.")] = None,
) -> None:
    """Export MODEL to ONNX and TFLite (fp32; int8 with --int8), then check parity and latency.

    MODEL is a zoo net or your own: path/to/file.py:function or package.module:function (a function returning
    an nn.Module; weights from --checkpoint, a state_dict, or --random-init), torchvision:NAME, model.pt2
    (torch.export.save), or model.onnx (starts at the ONNX stage; the reference for parity is then that file
    on ONNX Runtime fp32). Your own net needs its input contract: --input-shape C,H,W (read from an .onnx)
    with --mean/--std and --classes (default: the --data folder's class names), or --card FILE.

    Writes export/NAME/: model.onnx, model_fp32.tflite[, model_int8.tflite[, model_mixed.tflite,
    model_latency.tflite]],
    manifest.json, parity.json.
    With --int8 --fallback auto, a full-int8 model that misses its int8 gate (--max-int8-drop,
    --min-int8-agreement) is mended: layers are kept in float, worst first (TF quantization debugger), until
    the gate holds; model_int8.tflite stays fully integer, the result is model_mixed.tflite (float I/O).
    With --int8 --optimize latency [--target DEVICE], the fp32 and int8 files are profiled op by op on the
    device; op types that run slower in int8 there (e.g. depthwise convs on x86) are kept in float when that
    makes the model faster than full int8 within the int8 gate: model_latency.tflite, not fully integer.

    Exit 0 when every gate holds (an int8 miss that the fallback meets included), 1 when a parity gate fails,
    2 on bad input.
    """
    from edgeflow.cli.report import gate_overrides, run_and_report
    from edgeflow.export.artifact import Precision
    from edgeflow.workflows.export import ExportOptions
    from edgeflow.workflows.litert_path import parse_converters
    from edgeflow.zoo.contract import contract_for

    contract = contract_for(name, card_file=card, input_shape=input_shape, mean=mean, std=std, classes=classes,
                            data=data, checkpoint=checkpoint)
    precisions = (Precision.FP32, Precision.INT8) if int8 else (Precision.FP32,)
    opts = ExportOptions(precisions=precisions, float_io=float_io, per_tensor=per_tensor, checkpoint=checkpoint,
                         random_init=random_init, out_dir=out, force=force, data=data, data_dir=data_dir,
                         parity_samples=parity_samples, calib_samples=calib_samples, calib_dir=calib,
                         converters=parse_converters(converter), threads=threads,
                         bench_iters=bench_iters, bench=not no_bench,
                         gates=gate_overrides(max_abs_diff, min_agreement, max_int8_drop, min_int8_agreement),
                         exit=exit_, card=contract, fallback=fallback,
                         optimize=optimize, target=target)
    run_and_report(name, opts, json_out=json_out)
