"""The history database: one SQLite file, safe against several writers, refusing files it did not make.

A file is edgeflow's when its header carries ``APPLICATION_ID`` and it holds the ``runs`` table; anything
else (a corrupt file, another program's database, a text file) is a one-line error and is never written.
Writers take SQLite's write lock at the start of the transaction (``BEGIN IMMEDIATE``) and wait up to
``TIMEOUT_S`` for another writer, so two runs finishing at once both land.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

from edgeflow.errors import EdgeflowError

APPLICATION_ID = 0x45444746  # "EDGF" in the SQLite header
SCHEMA_VERSION = 1
TIMEOUT_S = 60.0
ENV = "EDGEFLOW_HISTORY"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_utc TEXT NOT NULL, kind TEXT NOT NULL, model TEXT NOT NULL,
    device TEXT NOT NULL, fingerprint TEXT NOT NULL, git_commit TEXT, tools TEXT NOT NULL, gates TEXT NOT NULL,
    passed INTEGER, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS measurements (
    run_id INTEGER NOT NULL REFERENCES runs(id), runtime TEXT NOT NULL, precision TEXT NOT NULL,
    threads INTEGER NOT NULL, p50_ms REAL, p90_ms REAL, p99_ms REAL, mean_ms REAL, iters INTEGER,
    accuracy REAL, reference_accuracy REAL, agreement REAL, sqnr_db REAL, samples_ms TEXT);
CREATE INDEX IF NOT EXISTS runs_by_model ON runs(model, device, id);
"""
RUN_FIELDS = ("created_utc", "kind", "model", "device", "fingerprint", "git_commit", "tools", "gates", "passed",
              "source")
MEASUREMENT_FIELDS = ("runtime", "precision", "threads", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "iters",
                      "accuracy", "reference_accuracy", "agreement", "sqnr_db", "samples_ms")


def default_path() -> Path:
    """``$EDGEFLOW_HISTORY``, else ``$XDG_CACHE_HOME/edgeflow/history.sqlite`` (``~/.cache`` without it)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "edgeflow" / "history.sqlite"


def _refuse(path: Path, why: str) -> EdgeflowError:
    return EdgeflowError(f"{path} is not an edgeflow history database ({why}); it was left untouched: pass "
                         f"--history (or set {ENV}) with another file")


def _check_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database before SQLite opens it (it would not say so until later)."""
    if path.is_dir():
        raise _refuse(path, "it is a folder")
    if path.is_file() and path.stat().st_size:
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise _refuse(path, "not an SQLite file, or corrupt")


def _check_schema(conn: sqlite3.Connection, path: Path, *, create: bool) -> bool:
    """Whether the database is edgeflow's (creating the tables in an empty one when ``create``)."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if app_id == 0 and not tables:
        if not create:
            return False
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        for statement in filter(str.strip, SCHEMA.split(";")):  # executescript would commit the transaction
            conn.execute(statement)
        return True
    if app_id != APPLICATION_ID or "runs" not in tables or "measurements" not in tables:
        raise _refuse(path, f"application id {app_id:#x}, tables {', '.join(sorted(tables)) or 'none'}")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise EdgeflowError(f"{path} was written by a newer edgeflow (schema {version}); upgrade edgeflow")
    return True


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    _check_header(path)
    try:
        with closing(sqlite3.connect(path, timeout=TIMEOUT_S, isolation_level=None)) as conn:
            yield conn
    except sqlite3.DatabaseError as e:  # corrupt pages, "file is not a database", a lock held too long
        raise EdgeflowError(f"history database {path}: {e}; it was left untouched") from e


def append_run(path: Path, run: dict, measurements: list[dict]) -> int:
    """Append one run and its measurements in one transaction; returns the run's id. Creates the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _connect(path) as conn:
        conn.execute("BEGIN IMMEDIATE")  # the write lock first: a second writer waits here, then sees the tables
        try:
            _check_schema(conn, path, create=True)
            row = [_encode(run.get(k)) for k in RUN_FIELDS]
            cur = conn.execute(f"INSERT INTO runs ({', '.join(RUN_FIELDS)}) VALUES "
                               f"({', '.join('?' * len(RUN_FIELDS))})", row)
            run_id = cur.lastrowid
            conn.executemany(f"INSERT INTO measurements (run_id, {', '.join(MEASUREMENT_FIELDS)}) VALUES "
                             f"(?, {', '.join('?' * len(MEASUREMENT_FIELDS))})",
                             [[run_id, *(_encode(m.get(k)) for k in MEASUREMENT_FIELDS)] for m in measurements])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return run_id


def _encode(value):
    return json.dumps(value) if isinstance(value, (dict, list, tuple)) else value


def load_runs(path: Path, model: str | None = None, device: str | None = None) -> list[dict]:
    """Every run (oldest first), each with its ``measurements``; filtered by model and device when given."""
    if not path.is_file():
        raise EdgeflowError(f"no history database at {path}; runs are recorded there by export, parity and "
                            f"bench (or pass --history with the file)")
    with _connect(path) as conn:
        conn.row_factory = sqlite3.Row
        if not _check_schema(conn, path, create=False):
            return []
        where, args = _filters(model, device)
        runs = [dict(r) for r in conn.execute(f"SELECT * FROM runs {where} ORDER BY id", args)]
        by_id = {r["id"]: {**r, "tools": json.loads(r["tools"]), "gates": json.loads(r["gates"]),
                           "measurements": []} for r in runs}
        for m in conn.execute(f"SELECT m.* FROM measurements m JOIN runs ON runs.id = m.run_id {where}", args):
            m = dict(m)
            m["samples_ms"] = json.loads(m["samples_ms"]) if m["samples_ms"] else []
            by_id[m.pop("run_id")]["measurements"].append(m)
    return list(by_id.values())


def _filters(model: str | None, device: str | None) -> tuple[str, list[str]]:
    clauses, args = [], []
    for column, value in (("runs.model", model), ("runs.device", device)):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), args
