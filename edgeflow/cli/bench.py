"""``edgeflow bench``: an export on a device (board, phone, emulated Pi, this host, the desktop GPU)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeflow.cli.options import AcceptNewHostKey, JsonOut


def bench(
    name: Annotated[str, typer.Argument(metavar="MODEL", help="A zoo name, or your net as you passed it to "
                                        "`edgeflow export` (or its export's name); export it first.")],
    device: Annotated[str, typer.Option(help="Device profile name (devices/NAME.toml) or a .toml path.")] = "local",
    precision: Annotated[str, typer.Option(help="Comma-separated TFLite precisions.")] = "fp32,int8",
    threads: Annotated[str, typer.Option(help="Comma-separated thread counts [default: the profile's].")] = "",
    samples: Annotated[int, typer.Option(min=1, help="Test images run on the device for parity.")] = 1000,
    iters: Annotated[int, typer.Option(min=1, help="Timed single-image runs per setting.")] = 200,
    accept_new_host_key: AcceptNewHostKey = False,
    json_out: JsonOut = False,
    export_dir: Annotated[Optional[Path], typer.Option(
        help="The export to run (checked against its manifest.json) [default: export/NAME].")] = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Results folder [default: a new export/NAME.bench/DEVICE/<UTC time>/ per run]. E.g. "
             "models/NAME/results/DEVICE to update the committed results (needs --force where they exist).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace results of the same precision in --out.")] = False,
    converter: Annotated[str, typer.Option(help="Whose files to run: onnx2tf (model_PRECISION.tflite) or "
                                                "litert-torch (model_PRECISION.litert-torch.tflite).")] = "onnx2tf",
    profile_ops: Annotated[bool, typer.Option("--profile", help="Also time every op alone on the device (first "
                                              "thread count): per-op and per-op-type tables, profile.json.")] = False,
) -> None:
    """Benchmark MODEL's exported TFLite models on a device and check their parity against the reference.

    The reference is PyTorch for a zoo net; for your own net, the export's model.onnx on ONNX Runtime fp32
    (which the export gated against PyTorch or your .onnx), on the same data the export used.
    Checks each model against export/NAME/manifest.json, pushes the standalone script, the models and the
    inputs to a temp folder on the device, runs, pulls the outputs, removes the folder. Writes
    PRECISION.json per precision and latency.png (every precision with results in the folder) to --out.
    Every record carries the device's fingerprint (CPU, int8 ISA features, cores, governor, temperature,
    runtime, XNNPACK active). When int8 is < 1.2× as fast as fp32, a verdict under the table says why.
    --profile cuts each model into single-op models on the host and times them all on the device.
    Ctrl-C keeps and saves what was measured. Exit 1 when a parity gate fails or a run could not finish,
    2 on bad input or an unreachable device, 130 when interrupted.
    """
    from edgeflow.cli.report import publish
    from edgeflow.cli.tables import console, device_table
    from edgeflow.devices.profile import load_profile
    from edgeflow.errors import EdgeflowError, GateFailure
    from edgeflow.workflows.device_bench import bench_on_device
    from edgeflow.workflows.export_reference import export_name

    name = export_name(name, export_dir)
    profile = load_profile(device)
    if profile.extra.get("gpu"):
        if profile_ops:
            raise EdgeflowError("--profile times TFLite ops on a CPU device; the desktop GPU bench has no profile")
        _bench_gpu(name, profile, samples, json_out, export_dir)
        return
    try:
        thread_list = [int(t) for t in threads.split(",") if t.strip()] or list(profile.threads)
    except ValueError as e:
        raise EdgeflowError(f"--threads must be comma-separated integers, got {threads!r}") from e
    if min(thread_list) < 1:
        raise EdgeflowError(f"--threads must be >= 1, got {threads!r}")
    with console.status(f"{name} on {profile.name}"):
        rows, run = bench_on_device(name, profile, precisions=[p.strip() for p in precision.split(",")],
                                    threads=thread_list, samples=samples, iters=iters,
                                    accept_new_host_key=accept_new_host_key, results_dir=out, force=force,
                                    export_folder=export_dir, converter=converter, profile_ops=profile_ops)
    if json_out:
        typer.echo(json.dumps([{**r.record, "parity": r.parity.__dict__, "cross_arch": r.cross_arch}
                               for r in rows], indent=2))
    else:
        console.print(device_table(name, profile, rows, samples))
        if run.profile:
            _print_profile(run.profile)
        for line in run.verdict:
            console.print(f"[bold yellow]verdict:[/bold yellow] {line}")
        for line in run.incomplete:
            console.print(f"[yellow]incomplete: {line}[/yellow]")
        console.print(f"wrote {run.results_dir}")
    if rows:
        publish(run.results_dir)
    failures = [f"{r.precision} x{r.threads}: {'; '.join(r.failures)}" for r in rows if r.failures]
    if failures or run.incomplete:
        raise GateFailure("; ".join(failures + run.incomplete))


def _print_profile(profile: dict) -> None:
    from edgeflow.cli.profile_tables import op_type_table, sum_check_lines, top_ops_table
    from edgeflow.cli.tables import console

    console.print(op_type_table(profile))
    for precision in profile["precisions"]:
        console.print(top_ops_table(profile, precision))
    for line in sum_check_lines(profile):
        console.print(line)


def _bench_gpu(name, profile, samples: int, json_out: bool, folder: Path | None) -> None:
    """Desktop GPU: parity of PyTorch CUDA and ONNX Runtime CUDA/TensorRT against PyTorch CPU."""
    from edgeflow.cli.tables import console, parity_table
    from edgeflow.errors import GateFailure
    from edgeflow.workflows.device_bench import bench_gpu

    report, missing = bench_gpu(name, profile, samples=samples, export_folder=folder)
    if json_out:
        typer.echo(json.dumps({**report.to_dict(), "onnxruntime_cuda_not_run": missing or None}, indent=2))
    else:
        console.print(parity_table(report, (), {}))
        if missing:
            console.print(f"[yellow]onnxruntime-cuda not run: {missing}[/yellow]")
    if not report:
        raise GateFailure("; ".join(report.failures()))
