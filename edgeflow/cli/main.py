"""``edgeflow`` entry point: one sub-app per command group; user errors become one line and exit 2."""

from __future__ import annotations

import errno
import os
import shlex
import signal
import sys

import typer

from edgeflow.cli import bench as bench_cmd
from edgeflow.cli import devices as devices_cmd
from edgeflow.cli import export as export_cmd
from edgeflow.cli import history as history_cmd
from edgeflow.cli import inspect as inspect_cmd
from edgeflow.cli import models as models_cmd
from edgeflow.cli import parity as parity_cmd
from edgeflow.cli import prune as prune_cmd
from edgeflow.cli import report_cmd
from edgeflow.cli import train as train_cmd

cli = typer.Typer(
    help="Export PyTorch image classifiers to ONNX/TFLite, quantize them, and prove they still work.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    rich_markup_mode=None)  # help texts say "[default: ...]": print brackets, do not parse them as markup
cli.callback()(history_cmd.history_option)  # `edgeflow --history PATH COMMAND`: where runs are recorded
cli.add_typer(models_cmd.app, name="models")
cli.add_typer(devices_cmd.app, name="devices")
cli.command("bench")(bench_cmd.bench)
cli.command("train")(train_cmd.train)
cli.command("export")(export_cmd.export)
cli.command("inspect")(inspect_cmd.inspect)
cli.command("parity")(parity_cmd.parity)
cli.command("prune")(prune_cmd.prune)
cli.command("report")(report_cmd.report)
cli.command("history")(history_cmd.history)


def app() -> None:
    """Console-script entry: run the CLI, turning EdgeflowError into one line on stderr."""
    run_command(cli)


# errno values a user fixes (free space, permissions, a read-only place): one line and exit 2, not a crash
USER_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
               errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
               errno.EROFS: "read-only file system"}
INTERNAL_ERROR = 3  # an unexpected exception: neither 1 (a gate failed) nor 2 (bad input)


def _on_signal(signum: int, frame: object) -> None:
    from edgeflow.errors import Stopped

    raise Stopped(signum)


def run_command(command: typer.Typer) -> None:
    """Run a typer app; user errors become one line on stderr and an exit code (1 gate, 2 error, 130 Ctrl-C,
    143 SIGTERM, 3 an internal error whose traceback is saved to a file)."""
    from edgeflow.errors import EdgeflowError, GateFailure, Interrupted, Stopped

    for sig in (signal.SIGINT, signal.SIGTERM):  # typer would turn Ctrl-C into a silent exit 130
        signal.signal(sig, _on_signal)
    try:
        code = command(standalone_mode=False)
        if code == 128 + signal.SIGINT:  # a KeyboardInterrupt raised in code: typer returns 130 silently
            _fail(f"edgeflow: {_signal_words(signal.SIGINT)}; nothing half-written was kept", code, "yellow")
        if isinstance(code, int) and code:  # typer.Exit(n) comes back as a return value here
            sys.exit(code)
    except (Stopped, KeyboardInterrupt) as e:
        signum = getattr(e, "signum", signal.SIGINT)
        _fail(f"edgeflow: {_signal_words(signum)}; nothing half-written was kept", 128 + signum, "yellow")
    except Interrupted as e:
        _fail(f"edgeflow: {_signal_words(e.signum)}: {e}", 128 + e.signum, "yellow")
    except GateFailure as e:
        _fail(f"edgeflow: gate failed: {e}", 1)
    except EdgeflowError as e:
        _fail(f"edgeflow: error: {e}", 2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as e:  # usage errors (typer vendors click: there is no `click` module)
        if type(e).__name__ == "NoArgsIsHelpError":  # a bare `edgeflow` / `edgeflow models`: the help text
            e.show()
            sys.exit(2)
        ctx = getattr(e, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(f"edgeflow: error: {' '.join(e.format_message().split())}{hint}", 2)
    except OSError as e:
        if e.errno not in USER_ERRNOS:
            _internal_error(e)
        where = f" ({e.filename})" if e.filename else ""
        _fail(f"edgeflow: error: {USER_ERRNOS[e.errno]}{where}; free space or choose another location "
              "(--out), then run again. Nothing half-written was kept", 2)
    except Exception as e:  # noqa: BLE001 (the last resort: one line, the traceback in a file)
        _internal_error(e)


def _signal_words(signum: int) -> str:
    return "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"


def _fail(message: str, code: int, colour: str = "red") -> None:
    typer.secho(message, err=True, fg=colour)
    sys.exit(code)


def _internal_error(e: BaseException) -> None:
    """An exception edgeflow did not expect: save the traceback to a file and print one line naming it."""
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="edgeflow-crash-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(f"edgeflow {shlex.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
    first = str(e).splitlines()[0] if str(e) else ""
    _fail(f"edgeflow: internal error: {type(e).__name__}: {first} — this is a bug in edgeflow; the traceback is "
          f"in {path} (please attach it to a report)", INTERNAL_ERROR)


if __name__ == "__main__":
    app()
