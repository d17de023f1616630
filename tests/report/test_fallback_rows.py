"""A failed int8 row whose gate the fallback's mixed model meets: every table says so, beside the FAIL."""

from dataclasses import replace

import numpy as np

from edgeflow.check.parity import RunOutput, compare, to_markdown

REF = np.random.default_rng(0).normal(size=(100, 10)).astype(np.float32)


def _report():
    worse, better = REF.copy(), REF.copy()
    worse[:3] = -worse[:3]
    better[:1] = -better[:1]
    gates = {"int8_min_agreement": 0.99, "mixed_min_agreement": 0.99}
    report = compare(RunOutput("pytorch", "fp32", REF), [RunOutput("tflite", "int8", worse),
                     RunOutput("tflite", "mixed", better)], REF.argmax(1), gates=gates)
    return replace(report, met_by={"tflite int8": "tflite mixed"})


def test_markdown_and_html_tables_name_the_fallback():
    from edgeflow.report.tables import parity_table

    report = _report()
    md = to_markdown(report, "t")
    assert "**PASS**" in md and "FAIL: top-1 agreement 97.00 % < 99.00 % (met by the fallback, tflite mixed)" in md
    html = parity_table(report.to_dict(), {"artifacts": []})
    assert "(met by the fallback, tflite mixed)" in html and 'data-precision="mixed"' in html
    without = parity_table(replace(report, met_by={}).to_dict(), {"artifacts": []})
    assert "met by the fallback" not in without


def test_terminal_table_names_the_fallback():
    from edgeflow.cli.tables import console, parity_table

    with console.capture() as cap:
        console.print(parity_table(_report(), (), {}))
    text = " ".join(cap.get().split())
    assert "met by the" in text and "mixed" in text


def test_the_page_lists_the_layers_kept_in_float():
    from edgeflow.report.page import _fallback

    kept = {"tensor": "model/depthwise;Const_7", "op": "DEPTHWISE_CONV_2D", "rmse_per_scale": 2.574,
            "agreement_with": 0.9942, "agreement_without": 0.9887, "onnx_tensor": "/features/features.0/conv1/x"}
    html = "".join(_fallback({"needed": True, "gate_met": True, "message": "1 layer(s) kept", "kept_float": [kept]}))
    assert "layers kept in float" in html and "/features/features.0/conv1/x" in html
    assert "98.87" in html and "99.42" in html and "2.57" in html
    assert _fallback({"needed": False, "gate_met": True, "kept_float": []}) == []  # full int8 held: nothing to say


def test_the_page_shows_what_latency_mode_measured_and_kept_float():
    from edgeflow.report.page import _latency_mode

    rec = {"target": "local", "message": "DEPTHWISE_CONV_2D kept in float: 1.23× the speed of full int8",
           "slower_in_int8": [{"type": "DEPTHWISE_CONV_2D", "int8_over_fp32": 1.822, "us": {}}],
           "candidates": [{"float_ops": ["DEPTHWISE_CONV_2D"], "median_us": 291.7, "speedup_vs_int8": 1.228,
                           "speedup_vs_fp32": 1.224}]}
    html = "".join(_latency_mode(rec))
    assert "Latency mode on local" in html and "1.82×" in html and "292" in html and "1.23" in html
    assert _latency_mode({}) == []  # not asked for: nothing on the page
