"""Shared by ``export`` and ``parity``: run the pipeline with a live status line, print, apply the gates."""

from __future__ import annotations

import json

import typer

from edgeflow.cli.tables import console, parity_table


def gate_overrides(max_abs_diff: float | None, min_agreement: float | None, max_int8_drop: float | None) -> dict:
    pairs = (("fp32_max_abs_diff", max_abs_diff), ("fp32_min_agreement", min_agreement),
             ("int8_max_accuracy_drop_pp", max_int8_drop))
    return {k: v for k, v in pairs if v is not None}


def run_and_report(name: str, opts, *, json_out: bool):  # opts: ExportOptions
    """Run the export pipeline; print the table (or parity.json); raise GateFailure on a broken gate."""
    from edgeflow.errors import GateFailure
    from edgeflow.pipeline import run_export

    with console.status(f"{name}") as status:
        def step(msg: str) -> None:
            status.update(f"{name}: {msg}")
            console.log(msg)

        result = run_export(name, opts, step)
    if json_out:
        typer.echo(json.dumps(json.loads((result.out_dir / "parity.json").read_text()), indent=2))
    else:
        runtime_of = {"onnx": "onnxruntime", "tflite": "tflite"}
        sizes = {f"{runtime_of[a['format']]} {a['precision']}": a["bytes"] for a in result.manifest["artifacts"]}
        console.print(parity_table(result.parity, result.bench, sizes))
        console.print(f"wrote {result.out_dir} (convert {result.seconds['convert']:.1f} s, parity "
                      f"{result.seconds['parity']:.1f} s, latency {result.seconds['bench']:.1f} s)")
    if not result.parity:
        raise GateFailure("; ".join(result.parity.failures()), result=result)
    return result
