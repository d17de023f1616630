"""history --check: a planted slow run is flagged, noise within the earlier runs' spread is not, an accuracy
drop beyond the card's gate always is."""

import math
import re
import subprocess
import sys

import numpy as np
import pytest

from edgeflow.history import db, runs
from edgeflow.history.regress import check_all, t_quantile
from fake_runs import GATES, export_folder


def edgeflow(*args):
    return subprocess.run([sys.executable, "-m", "edgeflow.cli.main", *args], capture_output=True, text=True)


def test_t_quantile_matches_the_closed_forms():
    for p in (0.9, 0.99, 0.999):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-4)  # Cauchy
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-4)
    normal_99 = 2.3263478740408408  # the standard normal's 0.99 quantile, which t approaches
    assert t_quantile(0.99, 2000) == pytest.approx(normal_99, rel=1e-3) and t_quantile(0.99, 5) > normal_99


def _history(tmp_path, p50s, accuracies=None, name="net"):
    path = tmp_path / "h.sqlite"
    accuracies = accuracies or [0.89] * len(p50s)
    for k, (ms, acc) in enumerate(zip(p50s, accuracies)):
        folder = export_folder(tmp_path / f"run{k}", name, {"tflite int8": ms}, {"tflite int8": acc})
        db.append_run(path, *runs.from_folder(folder))
    return path


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_planted_slow_run_is_flagged_and_noise_is_not(tmp_path, seed):
    rng = np.random.default_rng(seed)
    earlier = list(1.0 + 0.03 * rng.standard_normal(6))
    mean, sd = float(np.mean(earlier)), float(np.std(earlier, ddof=1))
    noisy = _history(tmp_path / "noise", earlier + [mean + sd])  # one standard deviation: plain noise
    r = edgeflow("history", "--check", "--history", str(noisy))
    assert r.returncode == 0 and "no regression" in r.stdout, r.stdout + r.stderr
    slow = _history(tmp_path / "slow", earlier + [1.4 * mean])
    r = edgeflow("history", "--check", "--history", str(slow))
    (line,) = r.stderr.strip().splitlines()
    assert r.returncode == 1 and "host tflite int8 x1 latency" in line and "REGRESSION" in r.stdout


def test_agreeing_runs_do_not_turn_jitter_into_a_failure(tmp_path):
    path = _history(tmp_path / "a", [1.0, 1.0, 1.0, 1.02])
    assert edgeflow("history", "--check", "--history", str(path)).returncode == 0
    path = _history(tmp_path / "b", [1.0, 1.0, 1.0, 1.10])
    assert edgeflow("history", "--check", "--history", str(path)).returncode == 1


def test_too_few_runs_give_no_latency_verdict(tmp_path):
    path = _history(tmp_path, [1.0, 3.0])
    r = edgeflow("history", "--check", "--history", str(path))
    assert r.returncode == 0 and "no latency verdict" in r.stdout


def test_an_accuracy_drop_beyond_the_gate_always_fails(tmp_path):
    gate = GATES["int8_max_accuracy_drop_pp"]
    # the reference (PyTorch) is at 90 %: the earlier int8 run was above it, the newest is still within its gate
    # of the reference but 2 gates below the earlier run
    ok = _history(tmp_path / "ok", [1.0, 1.0], [0.93, 0.93 - 0.5 * gate / 100])
    assert edgeflow("history", "--check", "--history", str(ok)).returncode == 0
    bad = _history(tmp_path / "bad", [1.0, 1.0], [0.93, 0.93 - 2 * gate / 100])
    r = edgeflow("history", "--check", "--history", str(bad))
    assert r.returncode == 1 and "top-1" in r.stderr and f"gate {gate:g} pp" in r.stderr
    assert "earlier runs" in r.stderr
    alone = _history(tmp_path / "alone", [1.0], [0.9 - 2 * gate / 100])  # vs the reference of its own run
    assert edgeflow("history", "--check", "--history", str(alone)).returncode == 1


def test_runs_on_other_devices_are_not_compared():
    def run(i, device, ms):
        return {"id": i, "model": "net", "device": device, "kind": "bench", "gates": GATES, "measurements": [
            {"runtime": "tflite", "precision": "int8", "threads": 1, "p50_ms": ms, "accuracy": None,
             "reference_accuracy": None}]}

    history = [run(1, "rpi4", 10.0), run(2, "rpi4", 10.1), run(3, "rpi4", 9.9), run(4, "pixel", 30.0)]
    findings = check_all(history)
    assert [f.regression for f in findings] == [False, False]
    assert {f.device for f in findings} == {"rpi4", "pixel"}
    assert check_all(history + [run(5, "rpi4", 20.0)])[0].regression


def test_a_bench_after_an_export_does_not_hide_the_exports_regression():
    def run(i, kind, ms):
        return {"id": i, "model": "net", "device": "local", "kind": kind, "gates": GATES, "measurements": [
            {"runtime": "tflite", "precision": "int8", "threads": 1, "p50_ms": ms, "accuracy": 0.9,
             "reference_accuracy": 0.9}]}

    history = [run(1, "export", 1.0), run(2, "export", 1.01), run(3, "parity", 0.99), run(4, "export", 2.0),
               run(5, "bench", 5.0)]
    flagged = [(f.series, f.what) for f in check_all(history) if f.regression]
    assert flagged == [("host tflite int8 x1", "latency p50 ms")]


def test_the_report_of_a_slow_run_says_so(tmp_path):
    from edgeflow.report.publish import finish_run

    path = _history(tmp_path, [1.0, 1.02, 0.98, 1.01])
    slow = export_folder(tmp_path / "slow", "net", {"tflite int8": 1.5}, {"tflite int8": 0.89})
    assert finish_run(slow, history=path) == []
    html = (slow / "report.html").read_text()
    assert "History (5 runs on local)" in html and html.count('alt="history trend"') == 1
    assert re.search(r'class="fail">REGRESSION: \+4\d\.\d %', html) and "this run vs the earlier ones" in html
