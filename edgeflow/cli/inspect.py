"""``edgeflow inspect FILE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def inspect(
    path: Annotated[Path, typer.Argument(help="A .tflite or .onnx file.")],
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """What a model file really holds: ops, tensor dtypes, I/O dtypes and quantization, fully-integer or not."""
    from rich.table import Table

    from edgeflow.cli.tables import console
    from edgeflow.export.inspect import inspect_file

    info = inspect_file(path)
    if json_out:
        typer.echo(json.dumps(info, indent=2))
        return
    console.print(f"[bold]{path}[/bold]  {info['format']}, {info['bytes'] / 1024:.0f} KB")
    for side in ("input", "output"):
        d = info[side]
        quant = f", scale {d['scale']:.6g}, zero point {d['zero_point']}" if d.get("scale") else ""
        console.print(f"{side}: {d['dtype']} {d['shape']}{quant}")
    if info["format"] == "tflite":
        console.print(f"tensor dtypes: {info['tensor_dtypes']}")
        console.print(f"fully integer: {'yes' if info['fully_integer'] else 'no'}; "
                      f"integer I/O: {'yes' if info['integer_io'] else 'no'}")
    else:
        console.print(f"opset {info['opset']}; initializer dtypes: {info['initializer_dtypes']}; "
                      f"QDQ int8: {'yes' if info['qdq_int8'] else 'no'}")
    t = Table(title="ops")
    t.add_column("op")
    t.add_column("count", justify="right")
    for op, n in info["ops"].items():
        t.add_row(op, str(n))
    console.print(t)
