"""``edgeflow`` entry point: one sub-app per command group; user errors become one line and exit 2."""

from __future__ import annotations

import sys

import typer

from edgeflow.cli import devices as devices_cmd
from edgeflow.cli import export as export_cmd
from edgeflow.cli import inspect as inspect_cmd
from edgeflow.cli import models as models_cmd
from edgeflow.cli import parity as parity_cmd
from edgeflow.cli import train as train_cmd

cli = typer.Typer(
    help="Export PyTorch image classifiers to ONNX/TFLite, quantize them, and prove they still work.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
cli.add_typer(models_cmd.app, name="models")
cli.add_typer(devices_cmd.app, name="devices")
cli.command("bench")(devices_cmd.bench)
cli.command("train")(train_cmd.train)
cli.command("export")(export_cmd.export)
cli.command("inspect")(inspect_cmd.inspect)
cli.command("parity")(parity_cmd.parity)


def app() -> None:
    """Console-script entry: run the CLI, turning EdgeflowError into one line on stderr."""
    from edgeflow.errors import EdgeflowError, GateFailure

    try:
        cli(standalone_mode=False)
    except GateFailure as e:
        typer.secho(f"edgeflow: gate failed: {e}", err=True, fg="red")
        sys.exit(1)
    except EdgeflowError as e:
        typer.secho(f"edgeflow: error: {e}", err=True, fg="red")
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("edgeflow: interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # click's own usage errors
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(2)
        if isinstance(e, click.exceptions.Exit):
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(1)
        raise


if __name__ == "__main__":
    app()
