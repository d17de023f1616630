"""Benchmark (not a test): onnx2tf and litert-torch side by side on one net per zoo family.

    .venv/bin/python bench/bench_converters.py [--iters 200] [--nets sep_res18_s3,...]

One `edgeflow export NAME --int8 --converter all` per net (committed weights, parity on the embedded test
set, 500 calibration images, each runtime timed in its own process, 1 thread): per converter and precision
the conversion time, file size, SQNR and top-1 drop vs PyTorch, whether the int8 file is fully integer, and
the latency ratio to onnx2tf's fp32 file (same run, same machine). Writes bench/results/converters.json and
prints the Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_export import cpu_description  # noqa: E402  (the same machine description as the other bench)

from edgeflow.export.artifact import Precision  # noqa: E402
from edgeflow.export.manifest import artifact_runtime, tool_versions  # noqa: E402
from edgeflow.workflows.export import ExportOptions, run_export  # noqa: E402
from edgeflow.workflows.litert_path import CONVERTERS  # noqa: E402

NETS = ("sep_res18_s3", "dilated_dsnet_050", "sd_resnet18_lite", "sresnet", "cresnet50")  # one per family
ROOT = Path(__file__).resolve().parent.parent


def measure(name: str, iters: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        result = run_export(name, ExportOptions(precisions=(Precision.FP32, Precision.INT8), converters=CONVERTERS,
                                                out_dir=Path(tmp) / name, bench_iters=iters, threads=1))
    entries = {(artifact_runtime(a), a["precision"]): a for a in result.manifest["artifacts"]}
    latency = {(b.runtime, b.precision): b.p50_ms for b in result.bench}
    base = latency[("tflite", "fp32")]
    ref = result.parity.reference
    rows = []
    for r in result.parity.rows:
        if not r.runtime.startswith("tflite"):
            continue
        entry = entries[(r.runtime, r.precision)]
        rows.append({"net": name, "converter": entry.get("converter"), "precision": r.precision,
                     "convert_s": round(result.seconds[f"convert_{entry.get('converter')}"], 1),
                     "kb": round(entry["bytes"] / 1024), "sqnr_db": r.sqnr_db,
                     "drop_pp": round(100 * (ref.accuracy - r.accuracy), 2),
                     "fully_integer": entry.get("fully_integer") if r.precision == "int8" else None,
                     "p50_ms": latency[(r.runtime, r.precision)],
                     "latency_vs_onnx2tf_fp32": round(latency[(r.runtime, r.precision)] / base, 3)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--nets", default=",".join(NETS))
    a = ap.parse_args()
    rows = []
    for name in a.nets.split(","):
        print(f"{name} …", file=sys.stderr, flush=True)
        rows += measure(name, a.iters)
    out = {"machine": cpu_description(), "tools": tool_versions(), "iters": a.iters, "rows": rows}
    (ROOT / "bench" / "results" / "converters.json").write_text(json.dumps(out, indent=2) + "\n")
    print("| net | converter | precision | convert s | size KB | SQNR dB | top-1 drop pp | fully integer | "
          "p50 ms | latency / onnx2tf fp32 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        sqnr = "-" if r["sqnr_db"] is None else f"{r['sqnr_db']:.1f}"
        full = {None: "-", True: "yes", False: "**no**"}[r["fully_integer"]]
        print(f"| {r['net']} | {r['converter']} | {r['precision']} | {r['convert_s']} | {r['kb']} | {sqnr} | "
              f"{r['drop_pp']:+.2f} | {full} | {r['p50_ms']:.3f} | {r['latency_vs_onnx2tf_fp32']:.2f} |")


if __name__ == "__main__":
    main()
