"""Shared by ``export`` and ``parity``: run the pipeline with a live status line, print, apply the gates."""

from __future__ import annotations

import json
import math

import typer

from edgeflow.cli.tables import console, parity_table

GATE_RANGES = {  # flag → (card key, lowest, highest): a value outside is bad input, never a disabled gate
    "--max-abs-diff": ("fp32_max_abs_diff", 0.0, math.inf),
    "--min-agreement": ("fp32_min_agreement", 0.0, 1.0),
    "--max-int8-drop": ("int8_max_accuracy_drop_pp", 0.0, 100.0),
    "--min-int8-agreement": ("int8_min_agreement", 0.0, 1.0),
}


def gate_overrides(max_abs_diff: float | None, min_agreement: float | None, max_int8_drop: float | None,
                   min_int8_agreement: float | None = None) -> dict:
    """The gate flags the user gave, checked: finite and in range, else EdgeflowError naming the flag."""
    from edgeflow.errors import EdgeflowError

    given = {"--max-abs-diff": max_abs_diff, "--min-agreement": min_agreement, "--max-int8-drop": max_int8_drop,
             "--min-int8-agreement": min_int8_agreement}
    gates = {}
    for flag, value in given.items():
        if value is None:
            continue
        key, low, high = GATE_RANGES[flag]
        if not math.isfinite(value) or not low <= value <= high:
            span = f"between {low:g} and {high:g}" if math.isfinite(high) else f"a finite number >= {low:g}"
            raise EdgeflowError(f"{flag} {value} is out of range: it must be {span}")
        gates[key] = value
    return gates


def publish(folder) -> None:
    """Write report.html beside a run's results and add the run to the history; a failure is a warning."""
    from edgeflow.report.publish import finish_run

    for warning in finish_run(folder):
        typer.secho(f"edgeflow: warning: {warning}", err=True, fg="yellow")


def run_and_report(name: str, opts, *, json_out: bool, publish_run: bool = True):  # opts: ExportOptions
    """Run the export pipeline; print the table (or parity.json); raise GateFailure on a broken gate."""
    from edgeflow.errors import GateFailure
    from edgeflow.export.manifest import artifact_runtime
    from edgeflow.workflows.export import run_export

    with console.status(f"{name}") as status:
        def step(msg: str) -> None:
            status.update(f"{name}: {msg}")
            console.log(msg)

        result = run_export(name, opts, step)
    if publish_run:
        publish(result.out_dir)
    if json_out:
        typer.echo(json.dumps(json.loads((result.out_dir / "parity.json").read_text()), indent=2))
    else:
        sizes = {f"{artifact_runtime(a)} {a['precision']}": a["bytes"] for a in result.manifest["artifacts"]}
        console.print(parity_table(result.parity, result.bench, sizes))
        for converter, why in result.manifest.get("converter_failures", {}).items():
            console.print(f"[red]{converter}: FAILED — {why}[/red]")
        for a in result.manifest["artifacts"]:  # read from each file: what a converter left in float
            if a["precision"] == "int8" and a.get("fully_integer") is False:
                floats = a.get("tensor_dtypes", {}).get("float32", 0)
                io = f"input {a['input']['dtype']}, output {a['output']['dtype']}" if "input" in a else ""
                console.print(f"[yellow]{artifact_runtime(a)} int8 is not fully integer: {floats} float32 "
                              f"tensors; {io}[/yellow]")
        _print_fallback(result.manifest.get("fallback"))
        if result.manifest.get("optimize"):  # --optimize latency: what it kept float and how fast, or why nothing
            opt = result.manifest["optimize"]
            console.print(f"[{'green' if opt['float_ops'] else 'yellow'}]latency mode: {opt['message']}[/]")
        console.print(f"wrote {result.out_dir} (convert {result.seconds['convert']:.1f} s, parity "
                      f"{result.seconds['parity']:.1f} s, latency {result.seconds['bench']:.1f} s)")
    if not result.parity:
        raise GateFailure("; ".join(result.parity.failures()), result=result)
    return result


def _print_fallback(fallback: dict | None) -> None:
    """What ``--fallback auto`` did: the layers it kept in float with their measured effect, or why none."""
    if not fallback or not fallback.get("needed"):
        return
    colour = "green" if fallback["gate_met"] else "red"
    console.print(f"[{colour}]fallback: {fallback['message']}[/{colour}]")
    label = "kept float" if fallback["gate_met"] else "tried in float"
    for k in fallback.get("kept_float", []):
        effect = (f": agreement {100 * k['agreement_without']:.2f} → {100 * k['agreement_with']:.2f} %"
                  if "agreement_with" in k else "")
        where = f"ONNX {k['onnx_tensor']}, TFLite {k['tensor']}" if k.get("onnx_tensor") else f"TFLite {k['tensor']}"
        console.print(f"  {label}: {k['op']} {where} (error {k['rmse_per_scale']:.2f} int8 steps){effect}")
