"""Write how a net's committed weights were made into its card.

``[trained]`` (command, epochs, wall time) comes from the checkpoint's metadata, the accuracies in
``[measured]`` from the checkpoint (PyTorch fp32, 10k test images) and from the parity.json of
``edgeflow export NAME --int8 --data fashion-mnist`` (TFLite int8). The card is edited as text, so its
comments and layout survive; only the lines this module owns are replaced.
"""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from typing import Any

from edgeflow.errors import EdgeflowError
from edgeflow.files import atomic_write, read_json
from edgeflow.paths import model_dir
from edgeflow.zoo.checkpoint import default_checkpoint, read_checkpoint


def int8_accuracy(parity_json: Path, name: str) -> float:
    """Top-1 accuracy (%) of the TFLite int8 row of an export's parity.json."""
    report = read_json(parity_json, "parity report")
    if not isinstance(report, dict) or not isinstance(report.get("rows", []), list):
        raise EdgeflowError(f"{parity_json} is not an edgeflow parity report")
    if report.get("model") != name:
        raise EdgeflowError(f"{parity_json} is the parity report of {report.get('model')!r}, not {name!r}")
    rows = [r for r in report.get("rows", []) if r.get("runtime") == "tflite" and r.get("precision") == "int8"]
    if not rows:
        raise EdgeflowError(f"{parity_json} has no TFLite int8 row: export with --int8")
    return 100 * rows[0]["accuracy"]


def trained_section(name: str, meta: dict[str, Any], hardware: str) -> str:
    command = re.sub(r"\s--force\b", "", meta["command"])
    val = meta.get("val_samples", 0)
    dataset = (f"{meta['dataset']}: {meta['train_samples']:,} training images"
               + (f", {val:,} held out for validation (best epoch kept)" if val else ""))
    lines = [f"[trained]  # how models/{name}/weights.pt was made",
             f"command = {json.dumps(command)}",
             f"dataset = {json.dumps(dataset)}",
             f"epochs = {meta['epochs']}",
             f"best_epoch = {meta['best_epoch']}",
             f"wall_min = {meta['wall_s'] / 60:.1f}  # {hardware}",
             'checkpoint = "weights.pt"']
    if meta.get("weights_dtype"):
        lines.append(f"weights_dtype = {json.dumps(meta['weights_dtype'])}  # stored so; loads into float32")
    exits = meta.get("test_exit_accuracies", [])
    if len(exits) > 1:
        pcts = ", ".join(f"{100 * a:.2f}" for a in exits)
        lines.append(f"test_exit_accuracies_pct = [{pcts}]  # exit 1 (shallowest) .. deepest")
    return "\n".join(lines) + "\n"


def default_hardware(meta: dict[str, Any]) -> str:
    """The GPU a ``--device cuda`` run names in its metadata, else this machine's CPU."""
    device = meta.get("device", "cpu")
    if device != "cpu":
        return device
    return f"{os.cpu_count()}-core {platform.machine()} CPU"


def record(name: str, parity_json: Path | None, hardware: str | None = None) -> Path:
    """Rewrite models/NAME/card.toml with the record of models/NAME/weights.pt (and its int8 export)."""
    meta = read_checkpoint(default_checkpoint(name), name)["meta"]
    hardware = hardware or default_hardware(meta)
    missing = [k for k in ("command", "epochs", "best_epoch", "wall_s", "test_accuracy") if k not in meta]
    if missing:
        raise EdgeflowError(f"{default_checkpoint(name)} lacks {', '.join(missing)}: not written by `edgeflow train`")
    measured = [f"test_accuracy_pct = {100 * meta['test_accuracy']:.2f}  "
                f"# {meta.get('test_samples', 0):,} {meta['dataset']} test images, PyTorch fp32"]
    if parity_json is not None:
        measured.append(f"tflite_int8_accuracy_pct = {int8_accuracy(parity_json, name):.2f}  "
                        f"# edgeflow export {name} --int8 --data {meta['dataset']} (parity.json)")
    path = model_dir(name) / "card.toml"
    text = path.read_text()
    # drop an older record, and the note of why there were no weights ([not_committed]): now there are
    text = re.sub(r"(?ms)^\[(?:trained|not_committed)\].*?(?=^\[)", "", text)
    owned = "|".join(line.split(" = ")[0] for line in measured)  # a line not rewritten here stays
    text = re.sub(rf"(?m)^(?:{owned}) = .*\n", "", text)
    if "\n[measured]\n" not in text:
        raise EdgeflowError(f"{path} has no [measured] section")
    text = text.replace("\n[measured]\n", "\n" + trained_section(name, meta, hardware) + "\n[measured]\n"
                        + "\n".join(measured) + "\n", 1)
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return path
