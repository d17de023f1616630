"""Result folders for the history tests, shaped like the ones export/parity/bench write (the numbers are
made up by each test; the files' layout is the real one)."""

from __future__ import annotations

import json
from pathlib import Path

GATES = {"fp32_max_abs_diff": 1e-4, "fp32_min_agreement": 1.0, "int8_max_accuracy_drop_pp": 1.0}


def export_folder(root: Path, name: str, p50: dict[str, float], accuracy: dict[str, float], *,
                  reference_accuracy: float = 0.9, samples: dict[str, list[float]] | None = None) -> Path:
    """``root``/NAME with a parity.json: one row per ``"runtime precision"`` key of ``p50``."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    ref = {"runtime": "pytorch", "precision": "fp32", "max_abs_diff": 0.0, "mean_abs_diff": 0.0, "cosine": 1.0,
           "sqnr_db": None, "agreement": 1.0, "accuracy": reference_accuracy, "max_abs_logit": 10.0, "failures": []}
    rows, latency = [], []
    for label, ms in p50.items():
        runtime, precision = label.split()
        rows.append({**ref, "runtime": runtime, "precision": precision, "max_abs_diff": 1e-3, "sqnr_db": 30.0,
                     "accuracy": accuracy[label]})
        latency.append({"runtime": runtime, "precision": precision, "threads": 1, "p50_ms": ms, "p90_ms": ms * 1.1,
                        "p99_ms": ms * 1.2, "mean_ms": ms, "std_ms": ms / 20, "iters": 50, "peak_rss_mb": 50.0,
                        "model_bytes": 1000, "samples_ms": (samples or {}).get(label, [])})
    parity = {"model": name, "samples": 100, "data_sha256": "0" * 64, "gates": GATES, "passed": True,
              "reference": ref, "rows": rows, "latency": latency}
    (folder / "parity.json").write_text(json.dumps(parity))
    return folder
