"""`edgeflow bench NAME --profile` end to end: per-op times measured by the on-device script on this host and
on the emulated Pi (labelled emulated), the device fingerprint in every result, the cut models themselves,
and the verdict when a planted slow op makes int8 slower than fp32."""

import json
import subprocess
import sys

import numpy as np
import pytest
from planted import plant_slow_fully_connected

from edgeflow.devices import arm_sysroot
from edgeflow.devices.op_cut import cut_ops
from edgeflow.devices.profile import load_profile
from edgeflow.devices.transport import make_transport
from edgeflow.workflows.op_profile import SUM_TOLERANCE, profile_on_device

NAME = "sep_res18_s3"
pytestmark = pytest.mark.xdist_group("device_suites")  # shares `exported` and the cached sysroot

FINGERPRINT = ("cpu", "arch", "isa", "runtime", "runtime_version", "xnnpack")


def _bench(exported, out, *args):
    proc = subprocess.run([sys.executable, "-m", "edgeflow.cli.main", "bench", NAME, "--export-dir", str(exported),
                           "--profile", "--threads", "1", "--samples", "20", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, json.loads((out / "profile.json").read_text())


def _ops_in(model) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model))
    interp.allocate_tensors()
    return [o["op_name"] for o in interp._get_ops_details() if o["op_name"] != "DELEGATE"]


def _check_precision(p: dict, model) -> None:
    assert [o["type"] for o in p["ops"]] == _ops_in(model)  # every op, in order, with its type
    assert all(o["median_us"] > 0 and o["outputs"] and isinstance(o["delegated"], bool) for o in p["ops"])
    assert sum(o["share"] for o in p["ops"]) == pytest.approx(1.0)
    assert p["sum_us"] == pytest.approx(sum(o["median_us"] for o in p["ops"]))
    assert p["sum_within_tolerance"] == (abs(p["sum_us"] / p["whole_us"] - 1) <= SUM_TOLERANCE)


def test_profile_on_this_host(exported, tmp_path):
    stdout, prof = _bench(exported, tmp_path / "r", "--device", "local", "--precision", "fp32,int8", "--iters", "20")
    assert prof["emulated"] is False and set(prof["precisions"]) == {"fp32", "int8"}
    for precision in ("fp32", "int8"):
        _check_precision(prof["precisions"][precision], exported / f"model_{precision}.tflite")
        run = json.loads((tmp_path / "r" / f"{precision}.json").read_text())["runs"][0]
        assert all(k in run["fingerprint"] for k in FINGERPRINT + ("cores", "governor", "temperature_c"))
        assert run["fingerprint"]["xnnpack"] is True and run["fingerprint"]["arch"] == "x86_64"
    int8 = prof["precisions"]["int8"]["ops"]
    delegation = json.loads((tmp_path / "r" / "int8.json").read_text())["runs"][0]["delegation"]
    assert [o["index"] for o in int8 if not o["delegated"]] == delegation["not_delegated"]
    assert prof["precisions"]["int8"]["delegated_ops"] == len(int8) - len(delegation["not_delegated"])
    types = {r["type"]: r for r in prof["by_type"]}
    dw = types["DEPTHWISE_CONV_2D"]
    assert dw["int8_over_fp32"] == pytest.approx(dw["us"]["int8"] / dw["us"]["fp32"]) and dw["count"]["int8"] == 16
    assert "per-op profile by op type" in stdout and f"check ±{100 * SUM_TOLERANCE:.0f} %" in stdout
    assert ("verdict:" in stdout) == (prof["int8_speedup"] < 1.2) == bool(prof["verdict"])


def test_profile_on_the_emulated_pi(exported, tmp_path):
    arm_sysroot.setup_sysroot("cortex-a72")  # cached; built (~10 s) where missing
    stdout, prof = _bench(exported, tmp_path / "r", "--device", "rpi4-emulated", "--precision", "int8",
                          "--iters", "3")
    assert prof["emulated"] is True and "emulated µs" in stdout and "EMULATED" in stdout
    _check_precision(prof["precisions"]["int8"], exported / "model_int8.tflite")
    fp = prof["fingerprint"]
    assert all(k in fp for k in FINGERPRINT + ("host_cores", "host_governor"))
    assert fp["emulated"] is True and fp["qemu_cpu"] == "cortex-a72" and fp["cpu"].startswith("Cortex-A72")
    assert fp["arch"] == "aarch64" and fp["isa"]["asimd"] is True and fp["isa"]["asimddp"] is False  # an A72
    run = json.loads((tmp_path / "r" / "int8.json").read_text())["runs"][0]
    assert run["fingerprint"]["qemu_cpu"] == "cortex-a72" and run["fingerprint"]["xnnpack"] is True


def test_xnnpack_is_read_from_the_interpreters_graph(exported):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgeflow.devices.ondevice_bench import delegation

    model = str(exported / "model_int8.tflite")
    n = len(_ops_in(exported / "model_int8.tflite"))
    on = Interpreter(model_path=model)
    on.allocate_tensors()
    off = Interpreter(model_path=model, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    off.allocate_tensors()
    got_on, got_off = delegation(on), delegation(off)
    assert got_on["xnnpack"] is True and got_on["ops"] == n and got_on["partitions"] >= 1
    assert got_on["delegated_ops"] + len(got_on["not_delegated"]) == n and got_on["delegated_ops"] > n // 2
    assert got_off == {"xnnpack": False, "ops": n, "delegated_ops": 0, "partitions": 0, "not_delegated": list(range(n))}


def test_cut_models_keep_their_op_tensors_and_quantization(exported, tmp_path):
    import tarfile

    from tensorflow.lite.tools import flatbuffer_utils as fb

    model = exported / "model_int8.tflite"
    ops = cut_ops(model, tmp_path / "ops.tar")
    whole = fb.read_model(str(model))
    assert [o.type for o in ops] == _ops_in(model)
    tarfile.open(tmp_path / "ops.tar").extractall(tmp_path / "ops", filter="data")
    for o in ops[:3] + ops[-5:]:
        one = fb.read_model(str(tmp_path / "ops" / o.file))
        (op,), orig = one.subgraphs[0].operators, whole.subgraphs[0].operators[o.index]
        g, wg = one.subgraphs[0], whole.subgraphs[0]
        assert list(g.outputs) == list(op.outputs) and len(op.inputs) == len(orig.inputs)
        for k, (new, old) in enumerate(zip(list(op.inputs) + list(op.outputs), list(orig.inputs) + list(orig.outputs))):
            if old < 0:
                continue
            a, b = g.tensors[new], wg.tensors[old]
            assert list(a.shape) == list(b.shape) and a.type == b.type
            assert np.array_equal(a.quantization.scale, b.quantization.scale)
            assert np.array_equal(a.quantization.zeroPoint, b.quantization.zeroPoint)
            const = whole.buffers[b.buffer].data is not None and len(whole.buffers[b.buffer].data) > 0
            if k < len(op.inputs):  # weights stay buffers (same bytes); activations become model inputs
                assert (new in g.inputs) != const
            if const:
                assert np.array_equal(one.buffers[a.buffer].data, whole.buffers[b.buffer].data)


def test_verdict_names_a_planted_slow_int8_op(exported, tmp_path):
    planted = tmp_path / "model_int8.tflite"
    plant_slow_fully_connected(exported / "model_int8.tflite", planted, count=8)
    prof = profile_on_device(make_transport(load_profile("local")),
                             {"fp32": exported / "model_fp32.tflite", "int8": planted}, iters=10)
    assert prof["int8_speedup"] < 1.2  # ~50 MB of int8 weights streamed per run against the fp32 net's 1 MB
    fc = prof["by_type"][0]
    assert fc["type"] == "FULLY_CONNECTED" and fc["count"]["int8"] == fc["count"]["fp32"] + 8
    assert 1 <= len(prof["verdict"]) <= 2 and "of int8 time is FULLY_CONNECTED" in prof["verdict"][0]
