"""Latency mode's choices from a profile, and its bad inputs (no device needed)."""

import pytest

from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Precision
from edgeflow.workflows.latency_mode import MAX_TYPES, candidate_sets, check_optimize, slower_in_int8

BOTH = (Precision.FP32, Precision.INT8)


def _row(op, fp32, int8):
    return {"type": op, "us": {"fp32": fp32, "int8": int8}, "int8_over_fp32": int8 / fp32 if fp32 else None}


def test_slower_in_int8_takes_clearly_slower_types_that_matter_most_time_first():
    rows = [_row("CONV_2D", 280, 170), _row("DEPTHWISE_CONV_2D", 90, 160), _row("ADD", 30, 32),
            _row("PAD", 1.0, 3.0), _row("MEAN", 10, 40)]
    # ADD is within 10 %, PAD is 3× slower but under 2 % of the int8 time
    assert [r["type"] for r in slower_in_int8(rows)] == ["DEPTHWISE_CONV_2D", "MEAN"]


def test_an_op_only_int8_has_is_not_a_candidate():
    assert slower_in_int8([{"type": "QUANTIZE", "us": {"int8": 50.0}, "int8_over_fp32": None},
                           _row("CONV_2D", 100, 60)]) == []


def test_at_most_max_types_are_tried():
    rows = [_row(f"OP{i}", 10, 20 + i) for i in range(MAX_TYPES + 3)]
    assert len(slower_in_int8(rows)) == MAX_TYPES


def test_candidates_are_each_type_alone_then_all_together():
    assert candidate_sets(["A"]) == [("A",)]
    assert candidate_sets(["A", "B"]) == [("A",), ("B",), ("A", "B")]


def test_check_optimize_returns_the_target_profile():
    assert check_optimize("none", None, BOTH, ("onnx2tf",)) is None
    assert check_optimize("latency", None, BOTH, ("onnx2tf",)).name == "local"
    assert check_optimize("latency", "rpi4-emulated", BOTH, ("onnx2tf", "litert-torch")).name == "rpi4-emulated"


@pytest.mark.parametrize("args, message", [
    (("fast", None, BOTH, ("onnx2tf",)), "unknown --optimize 'fast'"),
    (("none", "local", BOTH, ("onnx2tf",)), "add --optimize latency"),
    (("latency", None, (Precision.FP32,), ("onnx2tf",)), "add --int8"),
    (("latency", None, BOTH, ("litert-torch",)), "keep the onnx2tf converter"),
    (("latency", "desktop-gpu", BOTH, ("onnx2tf",)), "runs no TFLite"),
    (("latency", "nowhere", BOTH, ("onnx2tf",)), "no device profile 'nowhere'"),
])
def test_bad_optimize_inputs(args, message):
    with pytest.raises(EdgeflowError, match=message):
        check_optimize(*args)
