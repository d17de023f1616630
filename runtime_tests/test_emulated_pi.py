"""A virtual Raspberry Pi: sep_res18_s3 int8 under qemu-user on an emulated Cortex-A72 (arm64 LiteRT,
XNNPACK's ARM kernels) must give bit-exactly the host's int8 outputs."""

import json

import pytest

from edgeflow.devices import arm_sysroot
from edgeflow.devices.profile import load_profile
from edgeflow.devices.transport import make_transport
from edgeflow.errors import EdgeflowError
from edgeflow.workflows.device_bench import bench_on_device

NAME = "sep_res18_s3"
# One pytest-xdist worker runs this module and test_devices.py: they share the session's `exported` fixture,
# and these tests share (and re-point) the cached sysroot.
pytestmark = pytest.mark.xdist_group("device_suites")


@pytest.fixture(scope="module")
def sysroot():
    return arm_sysroot.setup_sysroot("cortex-a72")  # cached in ~/.cache/edgeflow; built fresh (~10 s) otherwise


def test_int8_bit_exact_on_emulated_cortex_a72(exported, sysroot, tmp_path):
    profile = load_profile("rpi4-emulated")
    rows, run = bench_on_device(NAME, profile, precisions=["int8"], threads=[1], samples=50, iters=5,
                                export_folder=exported, results_dir=tmp_path)
    assert not run.incomplete and len(rows) == 1
    row = rows[0]
    assert row.record["arch"] == "aarch64" and row.record["xnnpack"] is True
    assert row.cross_arch["bit_exact"] and row.cross_arch["values"] == 500 and row.cross_arch["device_kernels"] == "XNNPACK"
    assert not row.failures
    saved = json.loads((tmp_path / "int8.json").read_text())
    assert saved["emulated"] is True and saved["runs"][0]["cross_arch"]["bit_exact"]


def test_sysroot_is_reused_and_checked(sysroot):
    assert arm_sysroot.sysroot_status(sysroot) is None
    assert arm_sysroot.setup_sysroot("cortex-a76") == sysroot  # no rebuild: same pins
    assert arm_sysroot.cpuinfo_core(sysroot) == "cortex-a76"
    arm_sysroot.setup_sysroot("cortex-a72")
    assert arm_sysroot.cpuinfo_core(sysroot) == "cortex-a72"


def test_faults_are_named(monkeypatch, tmp_path):
    profile = load_profile("rpi4-emulated")
    monkeypatch.setenv("EDGEFLOW_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(EdgeflowError, match="no arm64 sysroot.*edgeflow devices setup"):
        make_transport(profile)
    (tmp_path / "empty-cache" / "sysroots" / "arm64-debian" / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "empty-cache" / "sysroots" / "arm64-debian" / "usr" / "bin" / "python3").write_text("")
    (tmp_path / "empty-cache" / "sysroots" / "arm64-debian" / ".edgeflow-stamp.json").write_text('{"numpy": "1.0"}')
    with pytest.raises(EdgeflowError, match="stale"):
        make_transport(profile)
    monkeypatch.setattr(arm_sysroot.shutil, "which", lambda _: None)
    with pytest.raises(EdgeflowError, match="apt-get install qemu-user-static"):
        arm_sysroot.setup_sysroot("cortex-a72")
    with pytest.raises(EdgeflowError, match="unknown emulated core"):
        arm_sysroot.setup_sysroot("cortex-x1")
