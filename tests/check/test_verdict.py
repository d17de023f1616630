"""The int8 verdict on constructed profiles and fingerprints, and the per-op summary it reads."""

import pytest

from edgeflow.check.verdict import CLEARLY_FASTER, int8_verdict
from edgeflow.devices.op_cut import CutOp
from edgeflow.workflows.op_profile import SUM_TOLERANCE, by_type, summarize

XEON = {"cpu": "Test Xeon", "arch": "x86_64", "xnnpack": True,
        "isa": {"avx2": True, "avx512f": True, "avx512_vnni": True, "avx_vnni": False, "amx_int8": False}}


def _measured(times: list[tuple[str, float]], whole: float, not_delegated=()) -> tuple[dict, list[CutOp]]:
    """What the on-device script reports for ops of the given types and µs, and the host's cut list."""
    cut = [CutOp(i, t, f"op_{i:04d}.tflite") for i, (t, _) in enumerate(times)]
    ops = [{"file": c.file, "delegated": c.index not in not_delegated, "median_us": us,
            "inputs": [{"shape": [1, 8], "dtype": "int8"}], "outputs": [{"shape": [1, 8], "dtype": "int8"}]}
           for c, (_, us) in zip(cut, times)]
    return {"whole": {"median_us": whole, "xnnpack": True, "not_delegated": list(not_delegated)}, "ops": ops}, cut


def _profile(fp32: list[tuple[str, float]], int8: list[tuple[str, float]], not_delegated=()) -> dict:
    precisions = {"fp32": summarize(*_measured(fp32, sum(us for _, us in fp32))),
                  "int8": summarize(*_measured(int8, sum(us for _, us in int8), not_delegated))}
    return {"precisions": precisions, "by_type": by_type(precisions)}


def test_the_op_type_that_loses_most_is_named_with_its_share_and_ratio():
    p = _profile([("CONV_2D", 200.0), ("DEPTHWISE_CONV_2D", 50.0), ("DEPTHWISE_CONV_2D", 40.0)],
                 [("CONV_2D", 100.0), ("DEPTHWISE_CONV_2D", 105.0), ("DEPTHWISE_CONV_2D", 85.0)])
    speedup = 290.0 / 290.0
    lines = int8_verdict(speedup, XEON, p["by_type"], p["precisions"]["int8"]["ops"])
    share, ratio = 100 * 190 / 290, 190 / 90
    assert 1 <= len(lines) <= 2
    assert f"{speedup:.2f}× the speed of fp32 on Test Xeon" in lines[0]
    assert f"{share:.0f} % of int8 time is DEPTHWISE_CONV_2D, {ratio:.1f}× slower than fp32" in lines[0]


def test_no_verdict_when_int8_is_clearly_faster():
    p = _profile([("CONV_2D", 300.0)], [("CONV_2D", 100.0)])
    assert int8_verdict(CLEARLY_FASTER, XEON, p["by_type"], p["precisions"]["int8"]["ops"]) == []
    assert int8_verdict(3.0, XEON) == [] and int8_verdict(None, XEON) == []


def test_int8_ops_left_off_xnnpack_are_the_second_line():
    p = _profile([("CONV_2D", 100.0), ("BATCH_MATMUL", 10.0)], [("CONV_2D", 60.0), ("BATCH_MATMUL", 90.0)],
                 not_delegated=(1,))
    lines = int8_verdict(110 / 150, XEON, p["by_type"], p["precisions"]["int8"]["ops"])
    assert "BATCH_MATMUL, 9.0× slower" in lines[0]
    assert lines[1] == "BATCH_MATMUL is not delegated to XNNPACK in int8 (built-in kernels, 60 % of int8 time)"


def test_fingerprint_reasons_without_a_profile():
    no_dot = {**XEON, "isa": {"avx2": True, "avx512_vnni": False, "avx_vnni": False, "amx_int8": False}}
    lines = int8_verdict(0.9, no_dot)
    assert "0.90×" in lines[0] and "no int8 dot-product instructions (avx512_vnni, avx_vnni, amx_int8)" in lines[1]
    a72 = {"cpu": "Cortex-A72", "arch": "aarch64", "isa": {"asimd": True, "asimddp": False, "i8mm": False}}
    assert "(asimddp, i8mm)" in int8_verdict(1.0, a72)[1]
    assert "XNNPACK was not active" in int8_verdict(1.0, {**XEON, "xnnpack": False})[1]
    assert "--profile" in int8_verdict(1.0, XEON)[1]  # nothing in the fingerprint explains it
    emulated = int8_verdict(0.5, {**a72, "emulated": True, "qemu_cpu": "cortex-a72"}, emulated=True)
    assert "emulated cortex-a72 (EMULATED timing)" in emulated[0] and "dot-product" not in " ".join(emulated)


@pytest.mark.parametrize("whole, held", [(100.0, True), (100.0 / (1 + SUM_TOLERANCE) - 1, False)])
def test_summary_shares_and_sum_check(whole, held):
    s = summarize(*_measured([("CONV_2D", 60.0), ("ADD", 40.0)], whole, not_delegated=(1,)))
    assert [o["share"] for o in s["ops"]] == pytest.approx([0.6, 0.4])
    assert [o["delegated"] for o in s["ops"]] == [True, False]
    assert s["sum_us"] == pytest.approx(100.0) and s["sum_ratio"] == pytest.approx(100.0 / whole)
    assert s["sum_within_tolerance"] is held


def test_without_a_profile_the_bench_speeds_decide():
    from edgeflow.workflows.device_bench import DeviceRun, _speed_verdict

    def rec(precision, threads, p50):
        return {"precision": precision, "threads": threads, "latency": {"p50_ms": p50}, "fingerprint": XEON}

    slow = DeviceRun(outputs=[(None, rec("fp32", 1, 0.30)), (None, rec("int8", 1, 0.33)),
                              (None, rec("int8", 2, 0.10))])
    lines = _speed_verdict(slow, emulated=False)
    assert f"{0.30 / 0.33:.2f}× the speed of fp32 on Test Xeon" in lines[0] and "--profile" in lines[1]
    fast = DeviceRun(outputs=[(None, rec("fp32", 1, 0.30)), (None, rec("int8", 1, 0.10))])
    assert _speed_verdict(fast, emulated=False) == []
    assert _speed_verdict(DeviceRun(outputs=[(None, rec("int8", 1, 0.33))]), emulated=False) == []


def test_the_op_int8_slows_most_is_the_second_line_when_nothing_else_explains():
    fp32 = [("CONV_2D", 5.0), ("DEPTHWISE_CONV_2D", 10.0), ("CONV_2D", 40.0)]
    int8 = [("CONV_2D", 27.5), ("DEPTHWISE_CONV_2D", 20.0), ("CONV_2D", 6.0)]
    p = _profile(fp32, int8)
    lines = int8_verdict(55 / 53.5, XEON, p["by_type"], p["precisions"]["int8"]["ops"],
                         fp32_ops=p["precisions"]["fp32"]["ops"])
    assert "is DEPTHWISE_CONV_2D, 2.0× slower" in lines[0]
    assert lines[1] == f"op 0 CONV_2D (1x8 → 1x8) is 5.5× slower in int8 ({100 * 27.5 / 53.5:.0f} % of int8 time)"
