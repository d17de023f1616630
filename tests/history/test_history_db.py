"""The history database: runs appended and read back, two writers at once, corrupt and foreign files."""

import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edgeflow.errors import EdgeflowError
from edgeflow.history import db, runs
from fake_runs import export_folder



def edgeflow(*args):
    return subprocess.run([sys.executable, "-m", "edgeflow.cli.main", *args], capture_output=True, text=True)


def _append(path: Path, folder: Path) -> int:
    return db.append_run(path, *runs.from_folder(folder))


def test_the_test_session_never_writes_into_the_users_cache():
    assert "edgeflow-test-history-" in str(db.default_path())


def test_two_runs_appended_and_read_back(tmp_path):
    path = tmp_path / "h.sqlite"
    first = export_folder(tmp_path / "a", "net", {"tflite int8": 1.0}, {"tflite int8": 0.89})
    second = export_folder(tmp_path / "b", "net", {"tflite int8": 1.25}, {"tflite int8": 0.88})
    ids = [_append(path, first), _append(path, second)]
    got = db.load_runs(path, "net")
    assert [r["id"] for r in got] == ids and ids[0] < ids[1]
    assert [m["p50_ms"] for r in got for m in r["measurements"] if m["runtime"] == "tflite"] == [1.0, 1.25]
    assert {r["device"] for r in got} == {runs.HOST_DEVICE} and all(len(r["fingerprint"]) == 16 for r in got)
    assert got[0]["gates"]["int8_max_accuracy_drop_pp"] == 1.0 and "host" in got[0]["tools"]
    assert db.load_runs(path, "other") == [] and db.load_runs(path, "net", "rpi4") == []


def _writer(path: str, folder: str, n: int) -> None:
    for _ in range(n):
        db.append_run(Path(path), *runs.from_folder(Path(folder)))


def test_two_processes_appending_at_once_lose_nothing(tmp_path):
    path = tmp_path / "fresh" / "h.sqlite"  # both start on a file that does not exist yet
    folders = [export_folder(tmp_path / str(k), f"net{k}", {"tflite int8": 1.0 + k}, {"tflite int8": 0.9})
               for k in range(2)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), str(f), 15)) for f in folders]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    got = db.load_runs(path)
    assert len(got) == 30 and len({r["id"] for r in got}) == 30
    assert sorted(r["model"] for r in got) == ["net0"] * 15 + ["net1"] * 15
    assert all(len(r["measurements"]) == 2 for r in got)  # reference + the int8 row, never half a run


@pytest.mark.parametrize("kind", ["garbage", "foreign", "truncated"])
def test_a_corrupt_or_foreign_file_is_one_line_and_left_untouched(tmp_path, kind):
    path = tmp_path / "h.sqlite"
    if kind == "garbage":
        path.write_bytes(b"these are not the runs you are looking for\n" * 100)
    elif kind == "foreign":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE runs (x)")
    else:
        _append(path, export_folder(tmp_path, "net", {"tflite int8": 1.0}, {"tflite int8": 0.9}))
        path.write_bytes(path.read_bytes()[:1500] + b"\xff" * 3000)  # the header survives, the pages do not
    before = path.read_bytes()
    folder = export_folder(tmp_path / "new", "net", {"tflite int8": 1.0}, {"tflite int8": 0.9})
    with pytest.raises(EdgeflowError):
        _append(path, folder)
    for args in (["history", "net"], ["history", "--check"]):
        r = edgeflow("--history", str(path), *args)
        (line,) = r.stderr.strip().splitlines()
        assert r.returncode == 2 and line.startswith("edgeflow: error:") and str(path) in line, r.stderr
    assert path.read_bytes() == before


def test_a_history_failure_keeps_the_runs_results(tmp_path):
    from edgeflow.report.publish import finish_run

    bad = tmp_path / "h.sqlite"
    bad.write_text("not a database")
    folder = export_folder(tmp_path, "net", {"tflite int8": 1.0}, {"tflite int8": 0.9})
    parity = (folder / "parity.json").read_text()
    warnings = finish_run(folder, history=bad)
    assert len(warnings) == 1 and "not added to the history" in warnings[0] and "\n" not in warnings[0]
    assert (folder / "parity.json").read_text() == parity and (folder / "report.html").is_file()
    assert bad.read_text() == "not a database"


def test_history_table_and_plot(tmp_path):
    path = tmp_path / "h.sqlite"
    for k, ms in enumerate((1.0, 1.1, 1.05)):
        _append(path, export_folder(tmp_path / str(k), "net", {"tflite int8": ms}, {"tflite int8": 0.9}))
    r = edgeflow("history", "net", "--history", str(path), "--plot", str(tmp_path / "t.png"))
    assert r.returncode == 0, r.stderr
    assert "1.050 / 90.00" in r.stdout and (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    r = edgeflow("history", "nothere", "--history", str(path))
    assert r.returncode == 2 and "no runs of nothere" in r.stderr
    stored = json.loads(sqlite3.connect(path).execute("SELECT tools FROM runs").fetchone()[0])
    assert stored["host"]["cores"] >= 1
