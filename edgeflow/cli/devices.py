"""``edgeflow devices list|setup|check``."""

from __future__ import annotations

import json
from typing import Annotated

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
    from edgeflow.devices.transport import make_transport
    from edgeflow.errors import EdgeflowError
    from edgeflow.runtimes.remote import probe

    profile = load_profile(name)
    if profile.extra.get("gpu"):
        import torch

        from edgeflow.runtimes.gpu import gpu_status, missing_ort_gpu

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
    fp = info.get("fingerprint") or {}
    if fp:  # the int8-relevant facts; an older script on the device may not send them
        isa = " ".join(f for f, on in (fp.get("isa") or {}).items() if on) or "-"
        console.print(f"  cpu {fp.get('cpu')}{' (EMULATED ' + str(fp.get('qemu_cpu')) + ')' if fp.get('emulated') else ''}"
                      f"; int8 ISA: {isa}; governor {fp.get('governor') or 'not readable'}")
