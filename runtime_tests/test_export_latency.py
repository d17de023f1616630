"""End to end: ``export --int8 --optimize latency`` on sep_res18_s3, profiled and timed on this machine.

What is kept in float depends on the CPU (on x86 with XNNPACK, int8 depthwise convs run slower than fp32
ones), so the tests check that the result follows what was measured, whichever way it went. ~40 s."""

import numpy as np
import pytest

from edgeflow.export.artifact import Precision
from edgeflow.export.inspect import inspect_tflite
from edgeflow.files import file_sha256
from edgeflow.workflows.export import ExportOptions, run_export
from edgeflow.workflows.latency_mode import SLOWER, candidate_sets

NAME = "sep_res18_s3"

pytestmark = pytest.mark.xdist_group("export_latency")


@pytest.fixture(scope="module")
def optimized(tmp_path_factory):
    out = tmp_path_factory.mktemp("latency") / NAME
    return run_export(NAME, ExportOptions(precisions=(Precision.FP32, Precision.INT8), out_dir=out, bench=False,
                                          parity_samples=500, optimize="latency", bench_iters=50))


def test_the_record_follows_the_profile(optimized):
    rec = optimized.manifest["optimize"]
    assert rec["mode"] == "latency" and rec["target"] == "local" and rec["emulated"] is False
    assert rec["fingerprint"]["cpu"] and rec["fingerprint"]["isa"]  # what the choice was measured on
    for r in rec["slower_in_int8"]:
        assert r["int8_over_fp32"] > SLOWER and r["us"]["int8"] > r["us"]["fp32"]
    types = [r["type"] for r in rec["slower_in_int8"]]
    assert [tuple(c["float_ops"]) for c in rec["candidates"]] == candidate_sets(types)
    faster = [c["float_ops"] for c in rec["candidates"] if c["median_us"] < rec["p50_us"]["int8"]] if types else []
    if rec["float_ops"] is None:  # nothing beat full int8 here: no file, and the record says why
        assert not faster or "within the int8 gate" in rec["message"]
        assert not (optimized.out_dir / "model_latency.tflite").exists()
    else:
        assert rec["float_ops"] in faster and "not fully integer" in rec["message"]


def test_the_latency_model_keeps_exactly_those_op_types_in_float(optimized):
    rec = optimized.manifest["optimize"]
    path = optimized.out_dir / "model_latency.tflite"
    if rec["float_ops"] is None:
        assert not path.exists() and rec["message"]
        return
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    dtypes = {t["index"]: np.dtype(t["dtype"]) for t in interp.get_tensor_details()}
    ops = [o for o in interp._get_ops_details() if o["op_name"] != "DELEGATE"]
    weighted = {o["op_name"]: dtypes[int(o["inputs"][0])] for o in ops if o["op_name"] in
                ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")}
    for op in ops:
        if op["op_name"] in rec["float_ops"]:
            assert dtypes[int(op["inputs"][0])] == np.float32, op
    assert any(v == np.int8 for k, v in weighted.items() if k not in rec["float_ops"])  # the rest stays int8
    assert inspect_tflite(path)["fully_integer"] is False  # reported honestly
    entry = next(a for a in optimized.manifest["artifacts"] if a["file"] == path.name)
    assert entry["sha256"] == file_sha256(path) and entry["float_ops"] == rec["float_ops"]
    assert entry["fully_integer"] is False


def test_the_latency_model_meets_the_int8_gates_in_the_same_parity_table(optimized):
    if optimized.manifest["optimize"]["float_ops"] is None:
        assert "tflite latency" not in {r.label for r in optimized.parity.rows}
        return
    rows = {r.label: r for r in optimized.parity.rows}
    latency, int8 = rows["tflite latency"], rows["tflite int8"]
    gates = optimized.parity.gates
    assert {k[len("int8_"):] for k in gates if k.startswith("int8_")} == \
        {k[len("latency_"):] for k in gates if k.startswith("latency_")}
    assert not latency.failures and latency.agreement >= gates.get("latency_min_agreement", 0)
    assert abs(latency.accuracy - int8.accuracy) < 0.02  # float ops do not change what int8 got right
    assert latency.sqnr_db > 20
