"""The page without a browser: a failing gate is red, a per-op profile is shown where one was measured, and
text from result files is escaped (a file cannot put markup or a script into the page)."""

import json
import re

from edgeflow.report.collect import load_section
from edgeflow.report.page import render


def _parity_folder(root, model, failures):
    ref = {"runtime": "pytorch", "precision": "fp32", "max_abs_diff": 0.0, "mean_abs_diff": 0.0, "cosine": 1.0,
           "sqnr_db": None, "agreement": 1.0, "accuracy": 0.9, "max_abs_logit": 5.0, "failures": []}
    row = {**ref, "runtime": "tflite", "precision": "int8", "max_abs_diff": 0.5, "sqnr_db": 20.0, "accuracy": 0.8,
           "failures": failures}
    folder = root / "out"
    folder.mkdir()
    (folder / "parity.json").write_text(json.dumps({"model": model, "samples": 10, "data_sha256": "ab" * 32,
                                                    "gates": {"int8_max_accuracy_drop_pp": 1.0},
                                                    "passed": not failures, "reference": ref, "rows": [row]}))
    return folder


def test_a_failing_gate_is_red_and_says_why(tmp_path):
    folder = _parity_folder(tmp_path, "net", ["accuracy drop 10.00 pp > 1.0 pp"])
    html = render([load_section(folder)], "t")
    assert re.search(r'<td data-field="gate" class="fail">FAIL: accuracy drop 10.00 pp &gt; 1.0 pp</td>', html)
    assert 'class="badge fail">FAIL<' in html and "latency not measured" in html


def test_a_per_op_profile_is_shown_where_measured(tmp_path):
    folder = _parity_folder(tmp_path, "net", [])
    assert "not measured for this run" in render([load_section(folder)], "t")
    ops = [{"op": "CONV_2D", "count": 12, "ms": 0.21}, {"op": "FULLY_CONNECTED", "count": 1, "ms": 0.01}]
    (folder / "profile.json").write_text(json.dumps(ops))
    html = render([load_section(folder)], "t")
    for op in ops:
        assert f"<td>{op['op']}</td><td>{op['count']}</td><td>{op['ms']}</td>" in html


def test_a_bench_profile_is_shown_per_op_type(tmp_path):
    from edgeflow.workflows.op_profile import by_type

    folder = _parity_folder(tmp_path, "net", [])
    ops = {"fp32": [("CONV_2D", 30.0), ("CONV_2D", 20.0)], "int8": [("CONV_2D", 10.0), ("CONV_2D", 15.0)]}
    precisions = {p: {"ops": [{"type": t, "median_us": us} for t, us in o]} for p, o in ops.items()}
    (folder / "profile.json").write_text(json.dumps({"emulated": True, "by_type": by_type(precisions)}))
    html = render([load_section(folder)], "t")
    assert "<th>fp32 emulated µs</th><th>int8 emulated µs</th><th>int8/fp32 time</th>" in html
    assert "<td>CONV_2D</td><td>2 / 2</td><td>50.0</td><td>25.0</td><td>0.5</td>" in html


def test_text_from_result_files_is_escaped(tmp_path):
    folder = _parity_folder(tmp_path, '<script>alert(1)</script><img src="http://x">', [])
    html = render([load_section(folder)], "t")
    assert "<script" not in html and 'src="http://x"' not in html and "&lt;script&gt;" in html


def _bench_run(folder, device, p50):
    folder.mkdir(parents=True)
    run = {"threads": 1, "arch": "aarch64", "latency": {"p50_ms": p50, "p90_ms": p50, "p99_ms": p50},
           "parity": {"agreement": 1.0, "accuracy": 0.9, "failures": []}}
    (folder / "int8.json").write_text(json.dumps({"model": "net", "device": device, "precision": "int8",
                                                  "samples": 10, "runs": [run]}))


def test_a_bench_tree_gives_the_newest_run_per_device(tmp_path):
    from edgeflow.report.collect import load_sections

    tree = tmp_path / "net.bench"
    for device, stamp, p50 in (("rpi4", "20261201-100000", 9.0), ("rpi4", "20261205-100000", 8.0),
                               ("pixel", "20261203-100000", 3.0)):
        _bench_run(tree / device / stamp, device, p50)
    sections = load_sections([tree])
    got = {s.device: (s.folder.name, s.latency()[0]["p50_ms"]) for s in sections}
    assert got == {"rpi4": ("20261205-100000", 8.0), "pixel": ("20261203-100000", 3.0)}
    html = render(sections, "t")
    assert 'data-field="p50_ms" data-value="8.0"' in html and "Overview" in html
