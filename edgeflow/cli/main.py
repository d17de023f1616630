"""``edgeflow`` entry point: one sub-app per command group; user errors become one line and exit 2."""

from __future__ import annotations

import sys

import typer

from edgeflow.cli import devices as devices_cmd
from edgeflow.cli import export as export_cmd
from edgeflow.cli import inspect as inspect_cmd
from edgeflow.cli import models as models_cmd
from edgeflow.cli import parity as parity_cmd
from edgeflow.cli import prune as prune_cmd
from edgeflow.cli import train as train_cmd

cli = typer.Typer(
    help="Export PyTorch image classifiers to ONNX/TFLite, quantize them, and prove they still work.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    rich_markup_mode=None)  # help texts say "[default: ...]": print brackets, do not parse them as markup
cli.add_typer(models_cmd.app, name="models")
cli.add_typer(devices_cmd.app, name="devices")
cli.command("bench")(devices_cmd.bench)
cli.command("train")(train_cmd.train)
cli.command("export")(export_cmd.export)
cli.command("inspect")(inspect_cmd.inspect)
cli.command("parity")(parity_cmd.parity)
cli.command("prune")(prune_cmd.prune)


def app() -> None:
    """Console-script entry: run the CLI, turning EdgeflowError into one line on stderr."""
    run_command(cli)


def run_command(command: typer.Typer) -> None:
    """Run a typer app; user errors become one line on stderr and an exit code (1 gate, 2 error, 130 Ctrl-C)."""
    from edgeflow.errors import EdgeflowError, GateFailure, Interrupted

    try:
        code = command(standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n) comes back as a return value here
            sys.exit(code)
    except Interrupted as e:
        typer.secho(f"edgeflow: interrupted: {e}", err=True, fg="yellow")
        sys.exit(130)
    except GateFailure as e:
        typer.secho(f"edgeflow: gate failed: {e}", err=True, fg="red")
        sys.exit(1)
    except EdgeflowError as e:
        typer.secho(f"edgeflow: error: {e}", err=True, fg="red")
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("edgeflow: interrupted", err=True)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as e:  # usage errors (typer vendors click: there is no `click` module)
        e.show()
        sys.exit(2)


if __name__ == "__main__":
    app()
