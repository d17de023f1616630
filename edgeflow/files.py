"""The one I/O module: atomic writes, sha256, JSON with one-line errors, and the output folders edgeflow owns.

Every part of edgeflow writes files through here (safe unpickling of user data: ``edgeflow.data.safe_pickle``).

Output folders:
- edgeflow replaces only a folder it made: one holding its marker file or its manifest.json. A user's
  folder, a file, ``.``, ``''``, ``$HOME``, the repository root or any of their parents is refused with
  one line whatever the flags. An empty folder is taken over (nothing is lost).
- Work is staged in ``.<name>.<pid>.XXXX.edgeflow-stage`` beside the destination and renamed into place;
  the previous folder is first renamed aside, so no reader ever sees a half-written export.
- One run at a time per destination: a lock file beside it (``flock``, released by the kernel even on
  SIGKILL). A second run is refused at once and says so. Staging folders a killed run left behind are
  removed by the next run that takes the lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from edgeflow.errors import EdgeflowError


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename)."""
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def read_json(path: Path, what: str = "JSON file") -> Any:
    """Parse ``path`` as JSON (never anything that can run code); one-line errors for a missing or bad file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise EdgeflowError(f"{what} {path} does not exist") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EdgeflowError(f"{what} {path} is not readable JSON ({type(e).__name__}); "
                            "restore or regenerate it") from e


MARKER = ".edgeflow"  # written into every folder edgeflow makes
STAGE_SUFFIX = ".edgeflow-stage"
OLD_SUFFIX = ".edgeflow-old"
LOCK_SUFFIX = ".edgeflow-lock"


def protected_reason(out: Path) -> str | None:
    """Why ``out`` (resolved) must never be replaced, or None."""
    from edgeflow.paths import project_root

    named = {Path.cwd().resolve(): "the current folder", Path.home().resolve(): "your home folder",
             project_root(): "the edgeflow repository root", Path(out.anchor): "the file-system root"}
    for place, what in named.items():
        if out == place:
            return what
        if out in place.parents:
            return f"a parent of {what}"
    return None


def made_by_edgeflow(folder: Path) -> bool:
    """Whether ``folder`` holds edgeflow's marker, or an export manifest written by edgeflow."""
    if (folder / MARKER).is_file():
        return True
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "edgeflow" in (manifest.get("tools") or {})


def check_output_folder(out: Path, *, force: bool, flag: str = "--out") -> Path:
    """Resolve ``out`` and raise EdgeflowError unless it may be (re)written; call before any work starts."""
    out = Path(os.path.abspath(Path(out).expanduser()))
    why = protected_reason(out)
    if why:
        raise EdgeflowError(f"refusing to write into {out}: it is {why}; pass {flag} with a new folder")
    if out.is_file() or (out.exists() and not out.is_dir()):
        raise EdgeflowError(f"{out} is a file, not a folder; pass {flag} with a folder path")
    if out.is_dir() and any(out.iterdir()):
        if not made_by_edgeflow(out):
            raise EdgeflowError(f"{out} exists and was not made by edgeflow (no {MARKER} marker or manifest); "
                                f"edgeflow never replaces other folders: pass {flag} with a new folder")
        if not force:
            raise EdgeflowError(f"{out} already exists; pass --force to replace it or {flag} to choose another "
                                "folder")
    return out


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    path = out.parent / f".{out.name}{LOCK_SUFFIX}"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~current_umask())
        except OSError as e:
            raise EdgeflowError(f"cannot write in {out.parent}: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise EdgeflowError(f"another edgeflow run is writing {out} right now; wait for it to finish or "
                                "choose another output folder") from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break  # still the lock file others see (not one a finishing run just unlinked)
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _remove_leftovers(out: Path) -> None:
    """Staging and set-aside folders of earlier runs for ``out``: under the lock, none is in use."""
    for suffix in (STAGE_SUFFIX, OLD_SUFFIX):
        for p in out.parent.glob(f".{out.name}.*{suffix}"):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)


@contextmanager
def staged_folder(out: Path, *, force: bool, kind: str = "export") -> Iterator[Path]:
    """Lock ``out``, yield a fresh staging folder beside it, and on success swap it into place.

    On any exception (a SIGINT/SIGTERM included) the staging folder is removed and ``out`` is untouched.
    """
    out = check_output_folder(out, force=force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EdgeflowError(f"cannot create {out.parent}: {e.strerror}") from e
    with _lock(out):
        _remove_leftovers(out)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=STAGE_SUFFIX, dir=out.parent))
        try:
            os.chmod(stage, 0o777 & ~current_umask())  # mkdtemp makes 0700; an export is meant to be shared
            (stage / MARKER).write_text(json.dumps({"made_by": "edgeflow", "kind": kind}) + "\n")
            yield stage
            check_output_folder(out, force=force)  # the same rules, now under the lock
            old = out.parent / f".{out.name}.{os.getpid()}{OLD_SUFFIX}"
            if out.exists():
                os.rename(out, old)
            os.rename(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
