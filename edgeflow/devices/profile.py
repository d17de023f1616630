"""Device profiles: ``devices/<name>.toml`` (data, never imported) as a typed value."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from edgeflow.errors import EdgeflowError
from edgeflow.paths import devices_dir

TRANSPORTS = ("local", "ssh", "adb", "qemu")
INTERPRETERS = ("auto", "ai_edge_litert", "tflite_runtime", "tensorflow")


@dataclass(frozen=True)
class DeviceProfile:
    """Where a device is, how to reach it, and how to run the on-device script there."""

    name: str
    transport: str
    description: str = ""
    host: str = ""
    port: int = 22
    user: str = ""
    identity_file: str = ""
    ssh_options: tuple[str, ...] = ()  # extra `-o Key=Value` options, e.g. UserKnownHostsFile
    serial: str = ""  # adb
    adb: str = "adb"  # adb executable
    work_dir: str = "/tmp"  # where per-run temp folders are made
    python: str = "python3"
    interpreter: str = "auto"
    threads: tuple[int, ...] = (1,)
    cpu_mask: str = ""  # taskset mask, e.g. "0xf"
    benchmark_model: str = ""  # path of LiteRT's benchmark_model binary on the device
    timeout_s: float = 300.0
    qemu_cpu: str = ""  # qemu transport: emulated core, cortex-a72 (Pi 4) or cortex-a76 (Pi 5)
    extra: dict = field(default_factory=dict)


def _from_toml(path: Path) -> DeviceProfile:
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise EdgeflowError(f"device profile {path} is not valid TOML: {e}") from e
    transport = raw.get("transport")
    if transport not in TRANSPORTS:
        raise EdgeflowError(f"device profile {path}: transport must be one of {', '.join(TRANSPORTS)}")
    if raw.get("interpreter", "auto") not in INTERPRETERS:
        raise EdgeflowError(f"device profile {path}: interpreter must be one of {', '.join(INTERPRETERS)}")
    known = set(DeviceProfile.__dataclass_fields__) - {"name", "extra"}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if k in known}
    extra = {k: v for k, v in raw.items() if k not in known}
    try:
        return DeviceProfile(name=path.stem, extra=extra, **values)
    except TypeError as e:
        raise EdgeflowError(f"device profile {path}: {e}") from e


def list_profiles(folder: Path | None = None) -> list[DeviceProfile]:
    return [_from_toml(p) for p in sorted((folder or devices_dir()).glob("*.toml"))]


def load_profile(name_or_path: str) -> DeviceProfile:
    """A profile by name (``devices/<name>.toml``) or by path to a .toml file."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".toml" and path.is_file():
        return _from_toml(path)
    path = devices_dir() / f"{name_or_path}.toml"
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted(devices_dir().glob("*.toml")))
        raise EdgeflowError(f"no device profile {name_or_path!r}; known: {names} (or pass a .toml path)")
    return _from_toml(path)
