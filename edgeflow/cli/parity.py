"""``edgeflow parity``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeflow.cli.options import (CalibSamples, Checkpoint, Data, DataDir, JsonOut, MaxAbsDiff, MaxInt8Drop,
                                  MinAgreement, MinInt8Agreement, ParitySamples, PerTensor, RandomInit)
from edgeflow.cli.options import CalibDir, CardFile, Classes, Converter, InputShape, Mean, ModelSpec, Std

ALL_PRECISIONS = "fp32,fp16,dynamic,int8"


def parity(
    name: ModelSpec,
    precisions: Annotated[str, typer.Option(help="TFLite precisions, comma-separated.")] = ALL_PRECISIONS,
    onnx_int8: Annotated[bool, typer.Option(help="Include ONNX Runtime int8 (static QDQ).")] = True,
    per_tensor: PerTensor = False,
    layers: Annotated[bool, typer.Option("--layers", help="Name the layers that lose most to int8 quantization.")] = False,
    top: Annotated[int, typer.Option(min=1, help="How many worst layers to print.")] = 10,
    layer_samples: Annotated[int, typer.Option(min=1, help="Test images used for the per-layer comparison.")] = 200,
    plot: Annotated[bool, typer.Option("--plot", help="Write parity.png: accuracy vs model size.")] = False,
    checkpoint: Checkpoint = None,
    random_init: RandomInit = False,
    out: Annotated[Optional[Path], typer.Option(help="Output folder [default: export/NAME.parity, replaced on each "
                                                     "run]. An existing --out folder is replaced only with --force, and "
                                                     "only when edgeflow made it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder made by edgeflow.")] = False,
    data: Data = "fashion-mnist-embedded",
    data_dir: DataDir = None,
    parity_samples: ParitySamples = None,
    calib_samples: CalibSamples = 500,
    calib: CalibDir = None,
    converter: Converter = "onnx2tf",
    bench: Annotated[bool, typer.Option(help="Also measure latency and memory.")] = False,
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
) -> None:
    """Run MODEL through every runtime and precision on the same real images and gate each against PyTorch.

    MODEL is a zoo net or your own, as for `edgeflow export` (with its input contract).

    Chain: PyTorch → ONNX Runtime fp32 / int8 (QDQ) → TFLite fp32 / fp16 / dynamic / int8. Gates come from
    the card's [tolerances]. Writes parity.json, parity.md (also appended to $GITHUB_STEP_SUMMARY when set)
    and, with --layers, layers.json. Exit 0 all gates hold, 1 a gate failed, 2 bad input.
    """
    from edgeflow.cli.report import gate_overrides, publish, run_and_report
    from edgeflow.cli.tables import console
    from edgeflow.errors import EdgeflowError, GateFailure
    from edgeflow.export.artifact import Precision
    from edgeflow.paths import export_dir
    from edgeflow.workflows.export import ExportOptions
    from edgeflow.workflows.parity import (
        append_ci_summary,
        localize_int8,
        plot_accuracy_vs_size,
    )
    from edgeflow.workflows.litert_path import parse_converters
    from edgeflow.zoo.contract import contract_for

    contract = contract_for(name, card_file=card, input_shape=input_shape, mean=mean, std=std, classes=classes,
                            data=data, checkpoint=checkpoint)
    label = contract.name if contract else name
    try:
        chosen = tuple(Precision(p.strip()) for p in precisions.split(",") if p.strip())
    except ValueError as e:
        raise EdgeflowError(f"unknown precision in {precisions!r}; use some of {ALL_PRECISIONS}") from e
    if Precision.MIXED in chosen or Precision.LATENCY in chosen:  # made from a full-int8 model by export only
        raise EdgeflowError("the mixed model is made by `edgeflow export NAME --int8 --fallback auto`, the latency "
                            f"model by `... --int8 --optimize latency`; --precisions takes some of {ALL_PRECISIONS}")
    if layers and not onnx_int8:
        raise EdgeflowError("--layers compares the float and int8 ONNX models: drop --no-onnx-int8")
    opts = ExportOptions(precisions=chosen, onnx_int8=onnx_int8, per_tensor=per_tensor, checkpoint=checkpoint,
                         # the default folder is edgeflow's scratch space; a folder the user names needs --force
                         random_init=random_init, out_dir=out or export_dir() / f"{label}.parity",
                         force=force or out is None,
                         data=data, data_dir=data_dir, parity_samples=parity_samples, calib_samples=calib_samples,
                         calib_dir=calib, converters=parse_converters(converter),
                         bench=bench, card=contract,
                         gates=gate_overrides(max_abs_diff, min_agreement, max_int8_drop, min_int8_agreement))
    failure = None
    try:
        result = run_and_report(name, opts, json_out=json_out, publish_run=False)  # published after --layers
    except GateFailure as e:  # still localise and plot: that is when they are needed most
        failure, result = e, e.result
    append_ci_summary(result.out_dir)
    if layers:
        with console.status("per-layer comparison, float vs int8"):
            found = localize_int8(label, result.out_dir, samples=layer_samples, data=data, data_dir=data_dir,
                                  card=contract)
        for label, rows in found.items():
            console.print(_layer_table(f"{top} layers that lose most to int8: {label}, {layer_samples} images",
                                       rows[:top]))
    if plot:
        console.print(f"wrote {plot_accuracy_vs_size(label, result)}")
    publish(result.out_dir)
    if failure:
        raise failure


def _layer_table(title, rows):
    from rich.table import Table

    t = Table(title=title)
    for col in ("#", "tensor (float ONNX)", "op", "local SQNR dB", "cumulative SQNR dB"):
        t.add_column(col, justify="left" if col in ("tensor (float ONNX)", "op") else "right")
    for i, r in enumerate(rows, 1):
        cum = "-" if r.cumulative_sqnr_db is None else f"{r.cumulative_sqnr_db:.1f}"
        t.add_row(str(i), r.tensor, r.op_type, f"{r.local_sqnr_db:.1f}", cum)
    return t
