"""Output folders: only edgeflow's own are replaced, the swap is atomic, one writer at a time, leftovers go."""

import json
import os
import stat
from pathlib import Path

import pytest

from edgeflow.errors import EdgeflowError
from edgeflow.files import (
    MARKER,
    atomic_write,
    check_output_folder,
    made_by_edgeflow,
    read_json,
    staged_folder,
    write_json,
)


def test_new_folder_is_staged_marked_and_shared(tmp_path):
    old = os.umask(0o022)
    try:
        with staged_folder(tmp_path / "out", force=False) as stage:
            assert stage.parent == tmp_path and stage.name.endswith(".edgeflow-stage")
            (stage / "a.txt").write_text("new")
            assert not (tmp_path / "out").exists()  # nobody sees a half-written folder
    finally:
        os.umask(old)
    out = tmp_path / "out"
    assert (out / "a.txt").read_text() == "new" and made_by_edgeflow(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755  # not mkdtemp's 0700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no stage, no lock left


def test_failure_inside_keeps_the_old_folder(tmp_path):
    with staged_folder(tmp_path / "out", force=False) as stage:
        (stage / "a.txt").write_text("first")
    with pytest.raises(RuntimeError):
        with staged_folder(tmp_path / "out", force=True) as stage:
            (stage / "a.txt").write_text("second")
            raise RuntimeError("conversion failed")
    assert (tmp_path / "out" / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replace_needs_force_and_edgeflow_ownership(tmp_path):
    with staged_folder(tmp_path / "out", force=False):
        pass
    with pytest.raises(EdgeflowError, match="pass --force"):
        check_output_folder(tmp_path / "out", force=False)
    assert check_output_folder(tmp_path / "out", force=True) == tmp_path / "out"
    user = tmp_path / "user"
    user.mkdir()
    (user / "thesis.tex").write_text("years of work")
    with pytest.raises(EdgeflowError, match="not made by edgeflow"):
        check_output_folder(user, force=True)
    (tmp_path / "f").write_text("x")
    with pytest.raises(EdgeflowError, match="is a file"):
        check_output_folder(tmp_path / "f", force=True)
    (tmp_path / "empty").mkdir()
    assert check_output_folder(tmp_path / "empty", force=False)  # nothing to lose


def test_an_export_made_before_markers_counts_as_edgeflows(tmp_path):
    (tmp_path / "old").mkdir()
    write_json(tmp_path / "old" / "manifest.json", {"model": "x", "tools": {"edgeflow": "0.1"}, "artifacts": []})
    assert made_by_edgeflow(tmp_path / "old")
    write_json(tmp_path / "old" / "manifest.json", {"something": "else"})
    assert not made_by_edgeflow(tmp_path / "old")


@pytest.mark.parametrize("where", ["cwd", "home", "root", "parent"])
def test_protected_places_are_refused_whatever_the_flags(tmp_path, monkeypatch, where):
    from edgeflow.paths import project_root

    monkeypatch.chdir(tmp_path)
    target = {"cwd": Path("."), "home": Path.home(), "root": project_root(), "parent": tmp_path.parent}[where]
    with pytest.raises(EdgeflowError, match="refusing to write into"):
        check_output_folder(target, force=True)


def test_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    with staged_folder(tmp_path / "out", force=False) as stage:
        with pytest.raises(EdgeflowError, match="another edgeflow run is writing"):
            with staged_folder(tmp_path / "out", force=True):
                pass
        (stage / "a.txt").write_text("winner")
    assert (tmp_path / "out" / "a.txt").read_text() == "winner"


def test_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path):
    (tmp_path / ".out.999999.abc.edgeflow-stage").mkdir()
    (tmp_path / ".out.999999.abc.edgeflow-stage" / "model.onnx").write_text("half")
    (tmp_path / ".out.edgeflow-lock").write_text("")
    (tmp_path / ".other.1.abc.edgeflow-stage").mkdir()  # another destination's: not ours to touch
    with staged_folder(tmp_path / "out", force=False):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.1.abc.edgeflow-stage", "out"]
    assert (tmp_path / "out" / MARKER).is_file()


def test_atomic_write_and_json_round_trip(tmp_path):
    write_json(tmp_path / "r.json", {"a": 1})
    assert read_json(tmp_path / "r.json") == {"a": 1}
    with pytest.raises(OSError):
        atomic_write(tmp_path / "w.bin", lambda tmp: (tmp.write_text("partial"), (_ for _ in ()).throw(OSError())))
    assert not (tmp_path / "w.bin").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
    (tmp_path / "bad.json").write_bytes(b"\x80\x04garbage")
    with pytest.raises(EdgeflowError, match="not readable JSON"):
        read_json(tmp_path / "bad.json")
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": 1}
