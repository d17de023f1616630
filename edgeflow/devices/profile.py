"""Device profiles: ``devices/<name>.toml`` (data, never imported) as a typed value."""

from __future__ import annotations

import difflib
import math
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


EXTRA_KEYS = {"gpu": bool, "emulated": bool}  # flags some profiles carry; kept in ``extra``
_LISTS = {"ssh_options": str, "threads": int}


def _field_types() -> dict[str, type | tuple[type, ...]]:
    types: dict[str, type | tuple[type, ...]] = {"port": int, "timeout_s": (int, float), **EXTRA_KEYS}
    for name in DeviceProfile.__dataclass_fields__:
        types.setdefault(name, list if name in _LISTS else str)
    return {k: v for k, v in types.items() if k not in ("name", "extra")}


def _check_value(key: str, value: object, want: type | tuple[type, ...]) -> str | None:
    """Why ``value`` cannot be profile field ``key``, or None. (TOML booleans are not numbers here.)"""
    kinds = want if isinstance(want, tuple) else (want,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join({int: "an integer", float: "a number", str: "a string", bool: "true or false",
                             list: "a list"}[k] for k in kinds)
        return f"{key} must be {names}, got {value!r}"
    if key in _LISTS:
        item = _LISTS[key]
        if not value or any(isinstance(v, bool) or not isinstance(v, item) for v in value):  # type: ignore[union-attr]
            return f"{key} must be a non-empty list of {'strings' if item is str else 'integers'}, got {value!r}"
    if key == "threads" and min(value) < 1:  # type: ignore[type-var, arg-type]
        return f"threads must be >= 1, got {value!r}"
    if key == "port" and not 1 <= value <= 65535:  # type: ignore[operator]
        return f"port must be 1-65535, got {value!r}"
    if key == "timeout_s" and not (math.isfinite(value) and value > 0):  # type: ignore[arg-type]
        return f"timeout_s must be a positive number of seconds, got {value!r}"
    if key in ("host", "user", "serial") and str(value).startswith("-"):
        return f"{key} {value!r} begins with '-' (it would be read as a command-line option)"
    return None


def _from_toml(path: Path) -> DeviceProfile:
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise EdgeflowError(f"device profile {path} is not valid TOML: {e}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise EdgeflowError(f"device profile {path} is not readable: {e}") from e
    types = _field_types()
    for key in raw:
        if key not in types:  # a typo must not be ignored silently
            close = difflib.get_close_matches(key, types, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(sorted(types))}"
            raise EdgeflowError(f"device profile {path}: unknown key {key!r}{hint}")
    transport = raw.get("transport")
    if transport not in TRANSPORTS:
        raise EdgeflowError(f"device profile {path}: transport must be one of {', '.join(TRANSPORTS)}")
    if raw.get("interpreter", "auto") not in INTERPRETERS:
        raise EdgeflowError(f"device profile {path}: interpreter must be one of {', '.join(INTERPRETERS)}")
    for key, value in raw.items():
        problem = _check_value(key, value, types[key])
        if problem:
            raise EdgeflowError(f"device profile {path}: {problem}")
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if k not in EXTRA_KEYS}
    extra = {k: v for k, v in raw.items() if k in EXTRA_KEYS}
    return DeviceProfile(name=path.stem, extra=extra, **values)


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
