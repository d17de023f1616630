"""Benchmark (not a test): is int8 faster than float here, and what does each int8 route cost?

    .venv/bin/python bench/bench_int8.py [--iters 200] [--cases sep_res18_s3@28,cresnet50@224]

One export per case with every runtime timed in its own process, 1 thread, in one run on one machine:
TFLite fp32, TFLite int8 (full integer), TFLite ``--optimize latency`` (the op types this CPU runs slower
in int8 kept in float, where that is faster; not fully integer), ONNX Runtime fp32 and ONNX Runtime int8
(QDQ; int8 and uint8 activations both timed, the faster kept). sep_res18_s3 runs at its card's 28×28 with its committed weights;
cresnet50 at 224×224 RGB with random weights (latency does not depend on the weights; its accuracy gates
are meaningless there: not reported, and opened so that latency mode's candidates are timed). Ratios are speed-ups over TFLite fp32 (> 1: faster). Writes
bench/results/int8.json and prints the Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_export import cpu_description  # noqa: E402  (the same machine description as the other benches)

from edgeflow.export.artifact import Precision  # noqa: E402
from edgeflow.export.manifest import tool_versions  # noqa: E402
from edgeflow.workflows.export import ExportOptions, run_export  # noqa: E402

CASES = ("sep_res18_s3@28", "cresnet50@224")
ROOT = Path(__file__).resolve().parent.parent


def _options(case: str, out: Path, iters: int) -> tuple[str, ExportOptions]:
    name, size = case.split("@")
    common = dict(precisions=(Precision.FP32, Precision.INT8), onnx_int8=True, out_dir=out, bench_iters=iters,
                  threads=1, parity_samples=500, optimize="latency")
    if size == "28":
        return name, ExportOptions(**common)
    from edgeflow.zoo.contract import user_contract
    from edgeflow.zoo.registry import create_model

    module = create_model(name, img_size=int(size), in_chans=3, num_classes=10).eval()
    folder = _image_folder(out.parent / "images")  # real images, resized to the contract by the folder reader
    card = user_contract(f"{name}_{size}", case, input_shape=f"3,{size},{size}", mean="0.5,0.5,0.5",
                         std="0.5,0.5,0.5", data=str(folder))
    open_gates = {"int8_min_agreement": 0.0, "int8_max_accuracy_drop_pp": 100.0}  # random weights
    return f"{name}_{size}", ExportOptions(**{**common, "parity_samples": 100}, calib_samples=100, card=card,
                                           module=module, gates=open_gates, data=str(folder))


def _image_folder(root: Path, per_class: int = 10) -> Path:
    """train/ and test/ ImageFolders of real Fashion-MNIST images (PNG), ``per_class`` per class and split."""
    import numpy as np
    from PIL import Image

    from edgeflow.data import load_dataset

    for split in ("train", "test"):
        ds = load_dataset("fashion-mnist-embedded", split)
        for label, name in enumerate(ds.classes):
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i, idx in enumerate(np.flatnonzero(ds.labels == label)[:per_class]):
                Image.fromarray(ds.images[idx, 0]).save(root / split / name / f"{i:03d}.png")
    return root


def measure(case: str, iters: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        name, opts = _options(case, Path(tmp) / "out", iters)
        result = run_export(name, opts)
    p50 = {f"{b.runtime} {b.precision}": b.p50_ms for b in result.bench}
    (qdq,) = [a for a in result.manifest["artifacts"] if a["file"] == "model_int8_qdq.onnx"]
    choice = qdq["activations"]
    base = p50["tflite fp32"]
    opt = result.manifest["optimize"]
    latency_mode = {"float_ops": opt["float_ops"], "message": opt["message"],
                    "slower_in_int8": {r["type"]: round(r["int8_over_fp32"], 2) for r in opt["slower_in_int8"]},
                    "candidates": opt["candidates"], "fingerprint": opt["fingerprint"]}
    row = {"case": case, "p50_ms": p50, "ort_int8_activations": choice, "latency_mode": latency_mode,
           "speedup_vs_tflite_fp32": {k: round(base / v, 3) for k, v in p50.items()}}
    if case.endswith("@28"):  # committed weights: the accuracy cost is meaningful
        ref = result.parity.reference
        row["top1_drop_pp"] = {r.label: round(100 * (ref.accuracy - r.accuracy), 2) for r in result.parity.rows}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--cases", default=",".join(CASES))
    a = ap.parse_args()
    rows = []
    for case in a.cases.split(","):
        print(f"{case} …", file=sys.stderr, flush=True)
        rows.append(measure(case, a.iters))
    out = {"machine": cpu_description(), "tools": tool_versions(), "iters": a.iters, "threads": 1, "rows": rows}
    (ROOT / "bench" / "results" / "int8.json").write_text(json.dumps(out, indent=2) + "\n")
    cols = ["tflite fp32", "tflite int8", "tflite latency", "onnxruntime fp32", "onnxruntime int8"]
    print("| case | " + " | ".join(f"{c} p50 ms (speed-up)" for c in cols) + " | ORT int8 activations (S8S8 / U8S8 ms) |")
    print("|---" * (len(cols) + 2) + "|")
    for r in rows:
        cells = [f"{r['p50_ms'][c]:.3f} ({r['speedup_vs_tflite_fp32'][c]:.2f}×)" if c in r["p50_ms"] else "none"
                 for c in cols]
        ch = r["ort_int8_activations"]
        print(f"| {r['case']} | " + " | ".join(cells) + f" | {ch['activation_type']} "
              f"({ch['p50_ms']['int8']:.3f} / {ch['p50_ms']['uint8']:.3f}) |")
    for r in rows:
        print(f"- {r['case']}: latency mode: {r['latency_mode']['message']}")


if __name__ == "__main__":
    main()
