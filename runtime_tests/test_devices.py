"""Devices end to end: a real sshd on loopback, the adb stand-in, the local transport, and faults."""

import json
import os
import shlex
import sys

import pytest
from devices_fixtures import STANDIN_ADB, Sshd, adb_profile

from edgeflow.devices.profile import load_profile
from edgeflow.devices.transport import AdbTransport, make_transport
from edgeflow.errors import EdgeflowError
from edgeflow.runtimes import remote
from edgeflow.workflows.device_bench import bench_on_device

pytestmark = pytest.mark.xdist_group("device_suites")  # one worker builds the `exported` fixture

NAME = "sep_res18_s3"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = Sshd(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


def _bench(profile, exported, tmp_path, **kw):
    args = dict(precisions=["int8"], threads=[1], samples=200, iters=20, export_folder=exported,
                results_dir=tmp_path / "results")
    args.update(kw)
    return bench_on_device(NAME, profile, **args)


def test_ssh_end_to_end_with_parity(sshd, exported, tmp_path):
    profile = sshd.profile()
    rows, run = _bench(profile, exported, tmp_path, precisions=["fp32", "int8"])
    assert not run.incomplete and [(r.precision, r.threads) for r in rows] == [("fp32", 1), ("int8", 1)]
    for r in rows:
        assert r.record["arch"] and r.record["interpreter"] == "ai_edge_litert"
        assert r.record["latency"]["iters"] == 20 and r.record["peak_rss_mb"] > 0
        assert not r.parity.failures and r.parity.agreement > 0.98
    saved = json.loads((tmp_path / "results" / "int8.json").read_text())
    assert saved["complete"] and saved["runs"][0]["parity"]["accuracy"] > 0.85
    assert (tmp_path / "results" / "latency.png").is_file()
    assert os.listdir(profile.work_dir) == []  # the per-run remote folder is gone


def test_ssh_unknown_host_key_is_refused(sshd):
    transport = make_transport(sshd.profile(known_hosts="empty_known_hosts"))
    with pytest.raises(EdgeflowError, match="known_hosts.*--accept-new-host-key"):
        remote.probe(transport)


def test_ssh_connection_refused(sshd):
    from devices_fixtures import free_port

    with pytest.raises(EdgeflowError, match=r"device test-ssh: ssh to .* failed: .*refused"):
        remote.probe(make_transport(sshd.profile(port=free_port())))


def test_ssh_remote_python_and_interpreter_missing(sshd):
    with pytest.raises(EdgeflowError, match="python command '/nonexistent/python3' not found"):
        remote.probe(make_transport(sshd.profile(python="/nonexistent/python3")))
    with pytest.raises(EdgeflowError, match="no TFLite interpreter found.*tflite_runtime"):
        remote.probe(make_transport(sshd.profile(interpreter="tflite_runtime")))


def test_ssh_timeout(sshd, exported, tmp_path):
    with pytest.raises(EdgeflowError, match="timed out"):
        _bench(sshd.profile(timeout_s=0.01), exported, tmp_path)


def test_sshd_stopped_mid_run_keeps_what_was_measured(exported, tmp_path, monkeypatch):
    server = Sshd(tmp_path / "sshd2").start()
    real = remote.RemoteRunner.infer_all
    calls = []

    def run_then_stop_server(self, *args, **kw):
        logits = real(self, *args, **kw)
        calls.append(logits)
        server.stop()  # the board goes away after the first measurement
        return logits

    monkeypatch.setattr(remote.RemoteRunner, "infer_all", run_then_stop_server)
    rows, run = _bench(server.profile(), exported, tmp_path, precisions=["fp32", "int8"])
    assert [r.precision for r in rows] == ["fp32"] and len(calls) == 1
    assert run.incomplete and run.incomplete[0].startswith("int8 x1 threads: not measured")
    saved = json.loads((tmp_path / "results" / "int8.json").read_text())
    assert saved["complete"] is False and saved["runs"] == [] and saved["incomplete"]
    assert json.loads((tmp_path / "results" / "fp32.json").read_text())["runs"][0]["latency"]["iters"] == 20


def test_adb_exact_commands_and_real_results(exported, tmp_path, monkeypatch):
    monkeypatch.setenv("ADB_STANDIN_ROOT", str(tmp_path / "phone"))
    (tmp_path / "phone").mkdir()
    profile = adb_profile()
    rows, run = _bench(profile, exported, tmp_path)
    assert not run.incomplete and rows[0].parity.agreement > 0.98 and not rows[0].parity.failures
    log = (tmp_path / "phone" / "adb.log").read_text().splitlines()
    adb = str(STANDIN_ADB)
    assert log[0] == "adb devices"
    assert log[1] == "adb -s standin-0001 shell 'mktemp -d /data/local/tmp/edgeflow.XXXXXX'"
    tmpdir = next(line.split()[-1] for line in log if " push " in line and line.endswith("ondevice_bench.py"))
    tmpdir = tmpdir.rsplit("/", 1)[0]
    # the script runs tracked (its pid kept in the run folder, so a timeout can stop it on the phone)
    inner = shlex.join(["sh", "-c", 'echo $$ > "$0/.edgeflow-run.pid"; exec "$@"', tmpdir, sys.executable,
                        f"{tmpdir}/ondevice_bench.py", "--interpreter", "ai_edge_litert", "--model",
                        f"{tmpdir}/model_int8.tflite", "--threads", "1"])
    assert any(line.startswith(f"adb -s standin-0001 shell {shlex.quote(inner)[:-1]}") for line in log), log
    assert log[-1] == f"adb -s standin-0001 shell 'rm -rf {tmpdir}'"
    assert adb.endswith("standins/adb") and isinstance(make_transport(profile), AdbTransport)


def test_adb_device_not_listed(tmp_path, monkeypatch):
    monkeypatch.setenv("ADB_STANDIN_ROOT", str(tmp_path))
    with pytest.raises(EdgeflowError, match="serial phone-42 is not listed by `adb devices`"):
        make_transport(adb_profile(serial="phone-42"))


def test_local_profile_is_documented_and_works(exported, tmp_path):
    profile = load_profile("local")
    rows, run = _bench(profile, exported, tmp_path)
    assert rows and not rows[0].parity.failures and rows[0].record["arch"]


def test_desktop_gpu_is_reported_unavailable_not_run_on_cpu():
    """This machine has no GPU (a GPU machine runs the real path: see the devices README)."""
    import subprocess

    from edgeflow.runtimes.gpu import gpu_status

    ok, reason, _ = gpu_status()
    if ok:
        pytest.skip(f"a GPU is present ({reason}): the unavailable path cannot be shown here")
    r = subprocess.run([sys.executable, "-m", "edgeflow.cli.main", "bench", NAME, "--device", "desktop-gpu"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "desktop-gpu is unavailable" in r.stderr and "Nothing was run on the CPU" in r.stderr
