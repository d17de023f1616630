"""``export --fallback auto``'s exit: 0 when the mixed model meets the gate full int8 missed (the int8 FAIL
still shown), 1 when it does not; and what it prints about the layers kept in float."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgeflow.check.parity import RunOutput, compare
from edgeflow.cli import report as cli_report
from edgeflow.cli.tables import console
from edgeflow.errors import GateFailure
from edgeflow.workflows.export import ExportResult

REF = np.random.default_rng(0).normal(size=(100, 10)).astype(np.float32)
KEPT = {"tensor": "model/depthwise;Const_7", "op": "DEPTHWISE_CONV_2D", "rmse_per_scale": 2.57,
        "agreement_with": 0.99, "agreement_without": 0.97, "onnx_tensor": "/features/features.0/conv1/Relu_output_0"}


def _result(mixed_flips: int, met: bool) -> ExportResult:
    def flipped(n):
        y = REF.copy()
        y[:n] = -y[:n]
        return y

    report = compare(RunOutput("pytorch", "fp32", REF), [RunOutput("tflite", "int8", flipped(3)),
                     RunOutput("tflite", "mixed", flipped(mixed_flips))], REF.argmax(1),
                     gates={"int8_min_agreement": 0.99, "mixed_min_agreement": 0.99})
    if met:
        report = replace(report, met_by={"tflite int8": "tflite mixed"})
    fallback = {"mode": "auto", "needed": True, "gate_met": met, "message": "1 layer(s) kept in float meet it"
                if met else "no mixed model met the int8 gate with up to 8 layer(s) in float", "kept_float": [KEPT]}
    manifest = {"artifacts": [], "fallback": fallback}
    return ExportResult(Path("."), manifest, report, (), {"convert": 1.0, "parity": 1.0, "bench": 0.0})


@pytest.mark.parametrize("flips,met", [(1, True), (3, False)])
def test_exit_follows_the_mixed_model(monkeypatch, flips, met):
    monkeypatch.setattr("edgeflow.workflows.export.run_export", lambda name, opts, step: _result(flips, met))
    with console.capture() as cap:
        if met:
            cli_report.run_and_report("net", None, json_out=False, publish_run=False)
        else:
            with pytest.raises(GateFailure, match="tflite int8: top-1 agreement 97.00 %"):
                cli_report.run_and_report("net", None, json_out=False, publish_run=False)
    text = " ".join(cap.get().split())
    assert ("met by the" in text) == met  # the int8 row's FAIL names the fallback only when it holds
    assert "fallback: " + ("1 layer(s) kept in float" if met else "no mixed model met") in text
    kept = "kept float" if met else "tried in float"
    assert f"{kept}: DEPTHWISE_CONV_2D ONNX /features/features.0/conv1/Relu_output_0" in text
    assert "agreement 97.00 → 99.00 %" in text
