"""``edgeflow devices list|check`` and ``edgeflow bench``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Device profiles (devices/*.toml): list them, check one is reachable.", no_args_is_help=True,
                  rich_markup_mode=None)  # "[default: ...]" in help texts is text, not markup


@app.command("list")
def list_cmd(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The device profiles in devices/."""
    from rich.table import Table

    from edgeflow.cli.tables import console
    from edgeflow.devices.profile import list_profiles

    profiles = list_profiles()
    if json_out:
        typer.echo(json.dumps([{"name": p.name, "transport": p.transport, "description": p.description}
                               for p in profiles], indent=2))
        return
    t = Table(title="device profiles (devices/*.toml)")
    for col in ("name", "transport", "where", "python", "interpreter", "threads", "description"):
        t.add_column(col)
    for p in profiles:
        where = {"ssh": f"{p.user + '@' if p.user else ''}{p.host}:{p.port}", "adb": p.serial}.get(p.transport, "this machine")
        t.add_row(p.name, p.transport, where, p.python, p.interpreter, ",".join(map(str, p.threads)), p.description)
    console.print(t)


@app.command("setup")
def setup_cmd(
    name: Annotated[str, typer.Argument(help="An emulated device profile, e.g. rpi4-emulated.")],
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when the cached sysroot is current.")] = False,
) -> None:
    """Build the arm64 sysroot an emulated device runs in (cached outside the repo; idempotent)."""
    import time

    from edgeflow.cli.tables import console
    from edgeflow.devices.arm_sysroot import setup_sysroot, sysroot_status
    from edgeflow.devices.profile import load_profile
    from edgeflow.errors import EdgeflowError

    profile = load_profile(name)
    if profile.transport != "qemu":
        raise EdgeflowError(f"device {profile.name} uses transport {profile.transport}: nothing to set up")
    was_ready = sysroot_status() is None and not force
    start = time.perf_counter()
    with console.status(f"{profile.name}: arm64 sysroot") as status:
        root = setup_sysroot(profile.qemu_cpu, step=lambda m: (status.update(m), console.log(m)), force=force)
    verb = "already current" if was_ready else f"built in {time.perf_counter() - start:.0f} s"
    console.print(f"{profile.name}: sysroot {root} {verb}; core {profile.qemu_cpu}")


@app.command("check")
def check_cmd(
    name: Annotated[str, typer.Argument(help="Profile name or path to a .toml.")],
    accept_new_host_key: Annotated[bool, typer.Option("--accept-new-host-key",
                                                      help="Trust an SSH host seen for the first time.")] = False,
) -> None:
    """Is the device reachable, and what runs there (python, interpreter and version, arch)?"""
    from edgeflow.cli.tables import console
    from edgeflow.devices.profile import load_profile
    from edgeflow.devices.remote import probe
    from edgeflow.errors import EdgeflowError
    from edgeflow.devices.transport import make_transport

    profile = load_profile(name)
    if profile.extra.get("gpu"):
        import torch

        from edgeflow.devices.gpu import gpu_status, missing_ort_gpu

        ok, reason, providers = gpu_status()
        if not ok:
            raise EdgeflowError(f"device {profile.name} is unavailable: {reason}")
        console.print(f"[green]{profile.name}: available[/green] — {reason}; torch {torch.__version__} CUDA; "
                      + (f"onnxruntime {', '.join(providers)}" if providers else
                         f"[yellow]{missing_ort_gpu(providers)}[/yellow]"))
        return
    info = probe(make_transport(profile, accept_new_host_key=accept_new_host_key))
    console.print(f"[green]{profile.name}: reachable[/green] ({profile.transport}) — python {info['python']}, "
                  f"{info['interpreter']} {info['interpreter_version']}, numpy {info['numpy']}, "
                  f"{info['arch']}, {info['os']}")


def bench(
    name: Annotated[str, typer.Argument(help="Registered model name; export it first.")],
    device: Annotated[str, typer.Option(help="Device profile name (devices/NAME.toml) or a .toml path.")] = "local",
    precision: Annotated[str, typer.Option(help="Comma-separated TFLite precisions.")] = "fp32,int8",
    threads: Annotated[str, typer.Option(help="Comma-separated thread counts [default: the profile's].")] = "",
    samples: Annotated[int, typer.Option(min=1, help="Test images run on the device for parity.")] = 1000,
    iters: Annotated[int, typer.Option(min=1, help="Timed single-image runs per setting.")] = 200,
    accept_new_host_key: Annotated[bool, typer.Option("--accept-new-host-key",
                                                      help="Trust an SSH host seen for the first time.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    export_dir: Annotated[Optional[Path], typer.Option(
        help="The export to run (checked against its manifest.json) [default: export/NAME].")] = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Results folder [default: a new export/NAME.bench/DEVICE/<UTC time>/ per run]. E.g. "
             "models/NAME/results/DEVICE to update the committed results (needs --force where they exist).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace results of the same precision in --out.")] = False,
) -> None:
    """Benchmark NAME's exported TFLite models on a device and check their parity against PyTorch.

    Checks each model against export/NAME/manifest.json, pushes the standalone script, the models and the
    inputs to a temp folder on the device, runs, pulls the outputs, removes the folder. Writes
    PRECISION.json per precision and latency.png (every precision with results in the folder) to --out.
    Ctrl-C keeps and saves what was measured. Exit 1 when a parity gate fails or a run could not finish,
    2 on bad input or an unreachable device, 130 when interrupted.
    """
    from rich.table import Table

    from edgeflow.cli.tables import console
    from edgeflow.devices.bench_device import bench_on_device
    from edgeflow.devices.profile import load_profile
    from edgeflow.errors import EdgeflowError, GateFailure
    from edgeflow.registry import check_model_name

    check_model_name(name)
    profile = load_profile(device)
    if profile.extra.get("gpu"):
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
                                    export_folder=export_dir)
    if json_out:
        typer.echo(json.dumps([{**r.record, "parity": r.parity.__dict__, "cross_arch": r.cross_arch}
                               for r in rows], indent=2))
    else:
        emulated = bool(profile.extra.get("emulated"))
        kind = " — EMULATED: latency is qemu's, not a device's" if emulated else ""
        t = Table(title=f"{name} on {profile.name} ({profile.transport}){kind}, parity on {samples} images")
        lat_cols = ("emulated p50 ms", "emulated p99 ms") if emulated else ("p50 ms", "p90 ms", "p99 ms")
        cols = ("device", "arch", "precision", "threads", *lat_cols, "peak RSS MB", "size KB", "agree %",
                "top-1 %", *(("vs host (XNNPACK)",) if emulated else ()), "gate")
        for col in cols:
            t.add_column(col, justify="left" if col in ("device", "arch", "precision", "gate") else "right")
        for r in rows:
            lat = r.record["latency"]
            lats = [lat["p50_ms"], lat["p99_ms"]] if emulated else [lat["p50_ms"], lat["p90_ms"], lat["p99_ms"]]
            cross = []
            if emulated and r.cross_arch:
                c = r.cross_arch
                cross = ["bit-exact" if c.get("bit_exact") else
                         (f"{c['values_off']} values ≤{c['lsb_max']} LSB" if "lsb_max" in c else f"{c['max_abs_diff']:.1e}")]
            t.add_row(r.device, r.record["arch"], r.precision, str(r.threads), *(f"{v:.3f}" for v in lats),
                      f"{r.record['peak_rss_mb']:.0f}", f"{r.record['model_bytes'] / 1024:.0f}",
                      f"{100 * r.parity.agreement:.2f}", f"{100 * r.parity.accuracy:.2f}", *cross,
                      "; ".join(r.failures) or "ok")
        console.print(t)
        for line in run.incomplete:
            console.print(f"[yellow]incomplete: {line}[/yellow]")
        console.print(f"wrote {run.results_dir}")
    failures = [f"{r.precision} x{r.threads}: {'; '.join(r.failures)}" for r in rows if r.failures]
    if failures or run.incomplete:
        raise GateFailure("; ".join(failures + run.incomplete))


def _bench_gpu(name, profile, samples: int, json_out: bool, folder: Path | None = None) -> None:
    """Desktop GPU: parity of PyTorch CUDA and ONNX Runtime CUDA/TensorRT against PyTorch CPU."""
    from edgeflow.cards import get_card
    from edgeflow.cli.tables import console, parity_table
    from edgeflow.data import load_dataset, preprocess
    from edgeflow.devices.gpu import gpu_runners, missing_ort_gpu, require_gpu
    from edgeflow.errors import EdgeflowError, GateFailure
    from edgeflow.export.manifest import verify_artifacts
    from edgeflow.parity import check_parity
    from edgeflow.paths import export_dir
    from edgeflow.registry import create_model
    from edgeflow.runtimes.torch_runner import TorchRunner

    missing = missing_ort_gpu(require_gpu(profile.name))
    onnx_path = (folder or export_dir() / name) / "model.onnx"
    if not onnx_path.is_file():
        raise EdgeflowError(f"no {onnx_path}; run `edgeflow export {name}` first")
    verify_artifacts(onnx_path.parent, name, [onnx_path])
    card = get_card(name)
    test = load_dataset("fashion-mnist-embedded", "test").subset(samples)
    report = check_parity(TorchRunner(create_model(name, pretrained=True)), gpu_runners(name, onnx_path, profile.name),
                          preprocess(test.images, card.mean, card.std), test.labels, gates=card.tolerances)
    if json_out:
        typer.echo(json.dumps({**report.to_dict(), "onnxruntime_cuda_not_run": missing or None}, indent=2))
    else:
        console.print(parity_table(report, (), {}))
        if missing:
            console.print(f"[yellow]onnxruntime-cuda not run: {missing}[/yellow]")
    if not report:
        raise GateFailure("; ".join(report.failures()))
