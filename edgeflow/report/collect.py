"""Read result folders (or files) into ``Section``s, the unit of the report: one export/parity folder or one
device bench folder each."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgeflow.export.manifest import artifact_runtime
from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Precision
from edgeflow.files import read_json

PROFILE_FILE = "profile.json"  # a per-op profile where one was measured (bench --profile: a dict; or rows)


def profile_rows(profile) -> list[dict] | None:
    """The report's rows of a profile.json: as they are when it holds rows; for ``bench --profile``'s
    (``workflows.op_profile``), one row per op type with µs per precision and int8/fp32 time."""
    if not isinstance(profile, dict) or "by_type" not in profile:
        return profile
    unit = "emulated µs" if profile.get("emulated") else "µs"
    return [{"op type": r["type"], "ops": " / ".join(map(str, r["count"].values())),
             **{f"{p} {unit}": round(us, 1) for p, us in r["us"].items()},
             "int8/fp32 time": None if r.get("int8_over_fp32") is None else round(r["int8_over_fp32"], 2)}
            for r in profile["by_type"]]


@dataclass
class Section:
    kind: str  # export | parity | bench
    folder: Path
    model: str
    device: str
    parity: dict | None = None  # parity.json (export, parity)
    manifest: dict = field(default_factory=dict)
    layers: dict | None = None  # layers.json (parity --layers)
    bench: list[dict] = field(default_factory=list)  # PRECISION.json files (bench)
    profile: list[dict] | None = None
    host: dict | None = None  # host.json (export, parity): the machine that measured, the git commit

    @property
    def title(self) -> str:
        return f"{self.model} — {self.kind} on {self.device}"

    @property
    def passed(self) -> bool:
        if self.parity is not None:
            return bool(self.parity.get("passed"))
        return all(not r["parity"].get("failures") for b in self.bench for r in b.get("runs", [])) and all(
            b.get("complete", True) for b in self.bench)

    def latency(self) -> list[dict]:
        """Every latency measurement: label, runtime, precision, threads, p50/p90/p99, samples_ms."""
        if self.parity is not None:
            return [{**lat, "label": f"{lat['runtime']} {lat['precision']}"} for lat in self.parity.get("latency", [])]
        return [{**r["latency"], "runtime": _bench_runtime(b), "precision": b["precision"],
                 "threads": r["threads"], "label": f"{b['precision']} x{r['threads']}"}
                for b in self.bench for r in b.get("runs", [])]


def _bench_runtime(saved: dict) -> str:
    """A device bench ran onnx2tf's files (``tflite``) or litert-torch's (``bench --converter``)."""
    return artifact_runtime(saved)


def _folder_of(path: Path) -> Path:
    path = path.expanduser()
    if path.is_file():
        return path.parent
    if not path.is_dir():
        raise EdgeflowError(f"{path} does not exist; pass an export, parity or bench results folder (or a file in it)")
    return path


def _bench_files(folder: Path) -> list[Path]:
    return [folder / f"{p.value}.json" for p in Precision if (folder / f"{p.value}.json").is_file()]


def load_section(path: Path) -> Section:
    """The section for one result folder (or a file inside it)."""
    folder = _folder_of(path)
    profile = profile_rows(read_json(folder / PROFILE_FILE, "per-op profile")) \
        if (folder / PROFILE_FILE).is_file() else None
    if (folder / "parity.json").is_file():
        parity = read_json(folder / "parity.json", "parity file")
        if not isinstance(parity, dict) or "rows" not in parity or "reference" not in parity:
            raise EdgeflowError(f"{folder / 'parity.json'} is not an edgeflow parity file (no rows/reference)")
        manifest = read_json(folder / "manifest.json", "manifest") if (folder / "manifest.json").is_file() else {}
        layers = read_json(folder / "layers.json", "layers file") if (folder / "layers.json").is_file() else None
        kind = "parity" if folder.name.endswith(".parity") else "export"
        model = parity.get("model") or manifest.get("model") or folder.name
        host = read_json(folder / "host.json", "host file") if (folder / "host.json").is_file() else None
        return Section(kind, folder, model, "local", parity=parity, manifest=manifest, layers=layers,
                       profile=profile, host=host if isinstance(host, dict) else None)
    files = _bench_files(folder)
    if not files:
        raise EdgeflowError(f"{folder} holds no edgeflow results (parity.json, or PRECISION.json of a bench); "
                            "pass an export, parity or bench results folder")
    bench = [read_json(f, "bench results") for f in files]
    if any(not isinstance(b, dict) or "runs" not in b or "device" not in b for b in bench):
        raise EdgeflowError(f"{folder} holds a PRECISION.json that is not an edgeflow bench result")
    return Section("bench", folder, bench[0]["model"], bench[0]["device"], bench=bench, profile=profile)


def load_sections(paths: list[Path]) -> list[Section]:
    """One section per path; a folder holding bench run folders (``export/NAME.bench``) gives its newest run
    per device."""
    sections = []
    for path in paths:
        folder = _folder_of(path)
        if (folder / "parity.json").is_file() or _bench_files(folder):
            sections.append(load_section(folder))
            continue
        runs = sorted({f.parent for f in folder.glob("*/*/*.json") if f.name[:-5] in {p.value for p in Precision}})
        newest = {}
        for run in runs:  # device/<UTC time>/: the time stamps sort
            newest[run.parent.name] = run
        if not newest:
            raise EdgeflowError(f"{folder} holds no edgeflow results (parity.json, or PRECISION.json of a bench)")
        sections += [load_section(run) for run in newest.values()]
    return sections
