"""An arm64 userland for emulated Raspberry Pi cores (qemu-user), built without root-level changes to the
host's apt state: Debian arm64 packages unpacked into a sysroot, LiteRT and numpy wheels for aarch64
installed into it from the host, and a fake ARM /proc/cpuinfo matching the emulated core.

The sysroot lives in a cache folder outside the repository (``$EDGEFLOW_CACHE`` or ``~/.cache/edgeflow``)
and is rebuilt only when what it pins changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Callable

from edgeflow.errors import EdgeflowError

QEMU = "qemu-aarch64-static"
DEBIAN_PACKAGES = ("python3", "libstdc++6")  # libstdc++6 is not in python3's closure; LiteRT needs it
PIP_PLATFORMS = ("manylinux_2_27_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64",
                 "manylinux_2_17_aarch64")  # pip does not widen platform tags: list them all
CORES = {  # qemu CPU → what /proc/cpuinfo must say (a mismatch crashes or disables XNNPACK)
    "cortex-a72": {"part": "0xd08", "features": "fp asimd evtstrm crc32 cpuid"},
    "cortex-a76": {"part": "0xd0b", "features": "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp "
                                                "asimdhp cpuid asimdrdm lrcpc dcpop asimddp"},
}
SUITE_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")


def cache_root() -> Path:
    return Path(os.environ.get("EDGEFLOW_CACHE", Path.home() / ".cache" / "edgeflow")).expanduser()


def sysroot_dir() -> Path:
    return cache_root() / "sysroots" / "arm64-debian"


def pins() -> dict[str, str]:
    """What the sysroot must hold: the host's LiteRT and numpy versions, so kernels and I/O match."""
    return {"ai-edge-litert": version("ai-edge-litert"), "numpy": version("numpy"), "python": "3.11",
            "packages": " ".join(DEBIAN_PACKAGES)}


def require_qemu() -> str:
    path = shutil.which(QEMU)
    if not path:
        raise EdgeflowError(f"{QEMU} not found: install it with `apt-get install qemu-user-static`")
    return path


def sysroot_status(root: Path | None = None) -> str | None:
    """None when the sysroot is ready and current, else what is wrong (missing or stale)."""
    root = root or sysroot_dir()
    stamp = root / ".edgeflow-stamp.json"
    if not (root / "usr" / "bin" / "python3").exists() or not stamp.is_file():
        return f"no arm64 sysroot at {root}"
    try:
        built_for = json.loads(stamp.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return f"the arm64 sysroot at {root} has a corrupt stamp file"
    if built_for != pins():
        return f"the arm64 sysroot at {root} is stale (built for other LiteRT/numpy versions)"
    return None


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise EdgeflowError(f"sysroot setup: {what} failed: {' | '.join(tail)}")


def _download_debs(work: Path) -> list[Path]:
    """arm64 .debs of DEBIAN_PACKAGES and their dependencies, through a private apt configuration."""
    etc, state, cache = work / "etc", work / "state", work / "cache"
    for d in (etc / "sources.list.d", etc / "preferences.d", state / "lists" / "partial", cache / "archives" / "partial"):
        d.mkdir(parents=True, exist_ok=True)
    if not SUITE_SOURCES.is_file():
        raise EdgeflowError(f"sysroot setup needs Debian apt sources at {SUITE_SOURCES}")
    shutil.copy(SUITE_SOURCES, etc / "sources.list.d" / "debian.sources")
    (state / "status").write_text("")
    opts = ["-o", "APT::Architecture=arm64", "-o", "APT::Architectures=arm64", "-o", f"Dir::Etc={etc}",
            "-o", "Dir::Etc::trusted=/etc/apt/trusted.gpg", "-o", "Dir::Etc::trustedparts=/etc/apt/trusted.gpg.d",
            "-o", f"Dir::State={state}", "-o", f"Dir::State::status={state / 'status'}", "-o", f"Dir::Cache={cache}",
            "-o", "Debug::NoLocking=1", "-qq"]
    _run(["apt-get", *opts, "update"], "apt-get update (arm64 indices)")
    _run(["apt-get", *opts, "install", "-y", "--download-only", "--no-install-recommends", *DEBIAN_PACKAGES],
         "apt-get download of arm64 packages")
    return sorted((cache / "archives").glob("*.deb"))


def _fake_cpuinfo(root: Path, core: str, cpus: int = 4) -> None:
    spec = CORES[core]
    block = ("processor\t: {n}\nBogoMIPS\t: 108.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\n"
             "CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: {part}\nCPU revision\t: 0\n\n")
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc" / "cpuinfo").write_text("".join(block.format(n=n, **spec) for n in range(cpus)))


def cpuinfo_core(root: Path | None = None) -> str | None:
    """Which core the sysroot's fake cpuinfo describes."""
    path = (root or sysroot_dir()) / "proc" / "cpuinfo"
    if not path.is_file():
        return None
    text = path.read_text()
    return next((core for core, spec in CORES.items() if f"CPU part\t: {spec['part']}" in text), None)


def setup_sysroot(core: str, *, step: Callable[[str], None] = lambda _: None, force: bool = False) -> Path:
    """Build (or reuse) the arm64 sysroot and point its cpuinfo at ``core``. Idempotent."""
    if core not in CORES:
        raise EdgeflowError(f"unknown emulated core {core!r}; use one of {', '.join(CORES)}")
    require_qemu()
    root = sysroot_dir()
    if force or sysroot_status(root) is not None:
        root.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
            build = Path(tmp) / "sysroot"
            build.mkdir()
            step("download Debian arm64 packages (python3, libstdc++6 and their dependencies)")
            debs = _download_debs(Path(tmp) / "apt")
            step(f"unpack {len(debs)} packages")
            for deb in debs:
                _run(["dpkg-deb", "-x", str(deb), str(build)], f"unpack {deb.name}")
            p = pins()
            step(f"install aarch64 wheels: ai-edge-litert {p['ai-edge-litert']}, numpy {p['numpy']}")
            plat = [a for tag in PIP_PLATFORMS for a in ("--platform", tag)]
            _run([sys.executable, "-m", "pip", "install", "-q", "--target", str(build / "opt" / "pylib"), "--only-binary=:all:",
                  "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311", *plat,
                  f"ai-edge-litert=={p['ai-edge-litert']}", f"numpy=={p['numpy']}"], "pip install of aarch64 wheels")
            (build / ".edgeflow-stamp.json").write_text(json.dumps(p))
            if root.exists():
                shutil.rmtree(root)
            build.rename(root)
    _fake_cpuinfo(root, core)
    return root


def emulated_python(core: str, root: Path | None = None) -> list[str]:
    """The argv prefix that runs the sysroot's python3 on an emulated ``core``."""
    root = root or sysroot_dir()
    problem = sysroot_status(root)
    if problem:
        raise EdgeflowError(f"{problem}; run `edgeflow devices setup` for this device")
    if cpuinfo_core(root) != core:
        _fake_cpuinfo(root, core)  # the shared sysroot serves both cores: point cpuinfo at this one
    return [require_qemu(), "-cpu", core, "-L", str(root), "-E", "PYTHONPATH=/opt/pylib", str(root / "usr/bin/python3")]
