"""`edgeflow export` and `bench` finish a run with report.html and a history entry (in the file `--history` names);
`edgeflow report` and `edgeflow history` turn bad input into one line."""

import json
import subprocess
import sys

from edgeflow.history import db


def edgeflow(*args):
    return subprocess.run([sys.executable, "-m", "edgeflow.cli.main", *args], capture_output=True, text=True)


def test_an_export_writes_its_report_and_joins_the_history(tmp_path):
    history = tmp_path / "runs.sqlite"
    out = tmp_path / "out"
    for _ in range(2):
        r = edgeflow("--history", str(history), "export", "sep_res18_s3", "--random-init", "--no-bench",
                     "--parity-samples", "20", "--out", str(out), "--force")
        assert r.returncode == 0, r.stderr
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "sep_res18_s3" in html and "data:image/png;base64," in html
    runs = db.load_runs(history, "sep_res18_s3")
    assert [r["kind"] for r in runs] == ["export", "export"] and runs[0]["git_commit"] != ""
    assert {m["runtime"] for m in runs[-1]["measurements"]} == {"pytorch", "onnxruntime", "tflite"}
    assert runs[-1]["tools"]["onnxruntime"] and runs[-1]["source"] == str(out)
    host = json.loads((out / "host.json").read_text())  # the machine that measured, kept beside the results
    assert host["fingerprint"] == runs[-1]["fingerprint"] and host["git_commit"] == runs[-1]["git_commit"]
    assert host["fingerprint"] in html
    bench = tmp_path / "bench"
    r = edgeflow("--history", str(history), "bench", "sep_res18_s3", "--device", "local", "--export-dir", str(out),
                 "--out", str(bench), "--precision", "fp32", "--threads", "1", "--samples", "20", "--iters", "10")
    assert r.returncode == 0, r.stderr
    assert "data:image/png;base64," in (bench / "report.html").read_text()
    (run,) = db.load_runs(history, "sep_res18_s3", "local")[2:]
    assert run["kind"] == "bench" and run["tools"]["interpreter"]
    assert [(m["precision"], m["threads"], len(m["samples_ms"])) for m in run["measurements"]] == [("fp32", 1, 10)]


def test_bad_report_inputs_are_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "parity.json").write_text('{"rows": 1}')
    cases = {"missing": [str(tmp_path / "nothere")], "empty": [str(tmp_path / "empty")],
             "not parity": [str(tmp_path / "bad")]}
    for what, args in cases.items():
        r = edgeflow("report", *args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("edgeflow: error:"), (what, r.stderr)
    r = edgeflow("history")
    assert r.returncode == 2 and "name the net" in r.stderr
    r = edgeflow("history", "x", "--history", str(tmp_path / "none.sqlite"))
    assert r.returncode == 2 and "no history database" in r.stderr and not (tmp_path / "none.sqlite").exists()
