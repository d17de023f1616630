"""The CLI's last line of defence: every way a command can end is one line on stderr and its own exit code."""

import errno
import re
import signal
from pathlib import Path

import pytest
import typer

from edgeflow.cli.main import INTERNAL_ERROR, run_command
from edgeflow.errors import EdgeflowError, GateFailure, Stopped


def _run(exc, capsys):
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise exc

    with pytest.raises(SystemExit) as e:
        run_command(app)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return e.value.code, err[0]


@pytest.fixture(autouse=True)
def _no_argv(monkeypatch):
    monkeypatch.setattr("sys.argv", ["edgeflow"])
    yield
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def test_user_error_gate_failure_and_signals(capsys):
    assert _run(EdgeflowError("bad name"), capsys) == (2, "edgeflow: error: bad name")
    assert _run(GateFailure("int8 drop 3 pp"), capsys) == (1, "edgeflow: gate failed: int8 drop 3 pp")
    code, line = _run(Stopped(signal.SIGTERM), capsys)
    assert code == 143 and "stopped by SIGTERM" in line
    code, line = _run(KeyboardInterrupt(), capsys)
    assert code == 130 and "interrupted (Ctrl-C)" in line


def test_disk_full_is_one_line_and_exit_2(capsys):
    code, line = _run(OSError(errno.ENOSPC, "No space left on device", "/mnt/out/model.onnx"), capsys)
    assert code == 2 and "no space left on the device (/mnt/out/model.onnx)" in line


def test_an_unexpected_exception_is_one_line_naming_a_saved_traceback(capsys):
    code, line = _run(ZeroDivisionError("division by zero"), capsys)
    assert code == INTERNAL_ERROR and code not in (0, 1, 2)
    assert line.startswith("edgeflow: internal error: ZeroDivisionError: division by zero")
    path = Path(re.search(r"traceback is in (\S+)", line).group(1))
    text = path.read_text()
    assert "Traceback" in text and "ZeroDivisionError" in text and "raise exc" in text
    path.unlink()
    code, line = _run(OSError(errno.EIO, "Input/output error"), capsys)  # an OSError a user cannot fix
    assert code == INTERNAL_ERROR
    Path(re.search(r"traceback is in (\S+)", line).group(1)).unlink()
