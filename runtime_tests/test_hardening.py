"""Real faults: signals during an export and a bench, two exports at once, a full disk (a real tmpfs), and
a device run cut short on a real sshd and on the adb stand-in (the remote process must not survive)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devices_fixtures import STANDIN_ADB, Sshd, adb_profile

from edgeflow.devices.transport import make_transport
from edgeflow.errors import EdgeflowError
from edgeflow.workflows.device_bench import run_on_device

NAME = "sep_res18_s3"
QUICK = ["--parity-samples", "50", "--no-bench"]
# an export that is certainly still running when it is signalled: converted, then timing for minutes
LONG = ["--parity-samples", "50", "--bench-iters", "100000"]


def _start(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "edgeflow.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _wait_for(predicate, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".edgeflow-stage")]


def _converted(folder: Path) -> bool:
    """The staged export holds its manifest: conversion is over, the latency runs have begun."""
    return any((p / "manifest.json").is_file() for p in _staging(folder))


@pytest.mark.parametrize("sig,code,words", [(signal.SIGINT, 130, "interrupted (Ctrl-C)"),
                                            (signal.SIGTERM, 143, "stopped by SIGTERM")])
def test_a_signal_during_export_removes_staging_and_says_so(tmp_path, sig, code, words):
    proc = _start("export", NAME, "--int8", "--out", str(tmp_path / "out"), *LONG)
    _wait_for(lambda: _converted(tmp_path))
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    (line,) = err.strip().splitlines()[-1:]
    assert words in line and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no staging, no lock, no half-written out


def test_leftovers_of_a_sigkilled_export_are_cleaned_by_the_next_run(tmp_path):
    proc = _start("export", NAME, "--int8", "--out", str(tmp_path / "out"), *LONG)
    _wait_for(lambda: _converted(tmp_path))
    proc.kill()
    proc.wait()
    assert _staging(tmp_path) and not (tmp_path / "out").exists()
    proc = _start("export", NAME, "--out", str(tmp_path / "out"), *QUICK)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_two_exports_into_one_folder_one_wins_the_other_says_so(tmp_path):
    # the first times 3,000 runs per runtime (~10 s): still writing when the second one starts
    first = _start("export", NAME, "--out", str(tmp_path / "out"), "--parity-samples", "50", "--bench-iters", "3000")
    _wait_for(lambda: (tmp_path / ".out.edgeflow-lock").exists())
    second = _start("export", NAME, "--out", str(tmp_path / "out"), "--force", *QUICK)
    _, err2 = second.communicate(timeout=300)
    _, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2 and "another edgeflow run is writing" in err2
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["model"] == NAME
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.fixture
def small_disk(tmp_path):
    """A real 3 MB tmpfs (CI runs as root); skipped, with the reason, where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the disk-full test needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_disk_full_during_export_is_one_line_and_leaves_nothing(small_disk):
    proc = _start("export", NAME, "--int8", "--out", str(small_disk / "out"), *QUICK)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    (line,) = err.strip().splitlines()[-1:]
    assert "no space left on the device" in line and "Traceback" not in err
    assert list(small_disk.iterdir()) == []


def _slow_python(tmp_path: Path, seconds: str, only: str = "") -> Path:
    """A device whose python hangs (as an overloaded board would) on every model, or only on ``only``."""
    script = tmp_path / "slow-python"
    hang = f"exec sleep {seconds}"
    body = f'case "$*" in *{only}*) {hang};; esac\n' if only else f"{hang}\n"
    script.write_text(f"#!/bin/sh\n{body}exec {sys.executable} \"$@\"\n")
    script.chmod(0o755)
    return script


def _running(pattern: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()


@pytest.mark.xdist_group("device_suites")
def test_ssh_timeout_stops_the_remote_process_and_removes_its_folder(exported, tmp_path):
    server = Sshd(tmp_path / "sshd").start()
    try:
        profile = server.profile(python=str(_slow_python(tmp_path, "4711.1")), timeout_s=3)
        with pytest.raises(EdgeflowError, match="timed out"):
            run_on_device(make_transport(profile), {"int8": exported / "model_int8.tflite"},
                              __import__("numpy").zeros((2, 1, 28, 28), "float32"), [1], iters=5)
        time.sleep(1.5)  # the TERM/KILL sequence on the device
        assert _running("sleep 4711.1") == [] and os.listdir(profile.work_dir) == []
    finally:
        server.stop()
        subprocess.run(["pkill", "-f", "sleep 4711.1"])


@pytest.mark.xdist_group("device_suites")
def test_adb_timeout_stops_the_process_on_the_phone(exported, tmp_path, monkeypatch):
    monkeypatch.setenv("ADB_STANDIN_ROOT", str(tmp_path / "phone"))
    (tmp_path / "phone").mkdir()
    profile = adb_profile(python=str(_slow_python(tmp_path, "4711.2")), timeout_s=3)
    try:
        with pytest.raises(EdgeflowError, match="timed out"):
            run_on_device(make_transport(profile), {"int8": exported / "model_int8.tflite"},
                              __import__("numpy").zeros((2, 1, 28, 28), "float32"), [1], iters=5)
        time.sleep(1.5)
        assert _running("sleep 4711.2") == []
        log = (tmp_path / "phone" / "adb.log").read_text()
        assert "kill -s TERM" in log and log.splitlines()[-1].startswith("adb -s standin-0001 shell 'rm -rf ")
        assert str(STANDIN_ADB).endswith("standins/adb")
    finally:
        subprocess.run(["pkill", "-f", "sleep 4711.2"])


@pytest.mark.xdist_group("device_suites")
def test_ctrl_c_during_bench_keeps_the_precision_already_measured(exported, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    python = _slow_python(tmp_path, "4711.3", only="model_int8")
    profile = tmp_path / "slowdev.toml"
    profile.write_text(f'transport = "local"\npython = "{python}"\ninterpreter = "ai_edge_litert"\n'
                       f'work_dir = "{work}"\nthreads = [1]\n')
    proc = _start("bench", NAME, "--device", str(profile), "--export-dir", str(exported), "--precision",
                  "fp32,int8", "--samples", "100", "--iters", "10", "--out", str(tmp_path / "results"))
    _wait_for(lambda: bool(_running("sleep 4711.3")))  # fp32 is measured, int8 hangs
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    (line,) = err.strip().splitlines()[-1:]
    assert "interrupted (Ctrl-C): kept what was measured (fp32)" in line and "Traceback" not in err
    fp32 = json.loads((tmp_path / "results" / "fp32.json").read_text())
    int8 = json.loads((tmp_path / "results" / "int8.json").read_text())
    assert fp32["runs"][0]["latency"]["iters"] == 10 and fp32["runs"][0]["parity"]["agreement"] > 0.98
    assert int8["runs"] == [] and int8["complete"] is False and "interrupted" in int8["incomplete"][0]
    assert (tmp_path / "results" / "latency.png").is_file()
    assert os.listdir(work) == [] and _running("sleep 4711.3") == []


@pytest.mark.xdist_group("device_suites")
def test_bench_never_replaces_measured_results_silently(exported, tmp_path):
    args = ["bench", NAME, "--device", "local", "--export-dir", str(exported), "--precision", "fp32",
            "--samples", "50", "--iters", "5", "--threads", "1", "--out", str(tmp_path / "r")]
    first = _start(*args)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    before = (tmp_path / "r" / "fp32.json").read_bytes()
    again = _start(*args)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 2 and "pass --force" in err and (tmp_path / "r" / "fp32.json").read_bytes() == before
    int8 = _start(*[a if a != "fp32" else "int8" for a in args])  # another precision joins the same folder
    _, err = int8.communicate(timeout=300)
    assert int8.returncode == 0, err
    assert (tmp_path / "r" / "fp32.json").read_bytes() == before and (tmp_path / "r" / "int8.json").is_file()
    from edgeflow.workflows.device_bench import _latency_series

    assert set(_latency_series(tmp_path / "r", NAME)) == {"fp32", "int8"}  # the plot shows both
