"""What a finished export is compared with when it runs somewhere else (a device, the GPU): for a zoo net the
PyTorch net it was made from; for a user's own net (whose definition edgeflow cannot rebuild from the export
alone) the export's own ``model.onnx`` on ONNX Runtime fp32 — the file the export already gated against
PyTorch (or against the user's .onnx). The input contract, the test data and the gates come from the
export's manifest and parity.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeflow.errors import EdgeflowError
from edgeflow.export.manifest import verify_artifacts
from edgeflow.export.onnx import ONNX_FILE
from edgeflow.files import read_json
from edgeflow.runtimes.base import Runner
from edgeflow.zoo.cards import DEFAULT_TOLERANCES, ModelCard
from edgeflow.zoo.loading import LoadedModel, load_model

EMBEDDED = "fashion-mnist-embedded"
USER_REFERENCE = "onnxruntime (export's model.onnx)"  # how tables name the reference of a user's net


@dataclass(frozen=True)
class ExportReference:
    card: ModelCard
    runner: Runner  # the reference runtime (opened by check.parity.run)
    data: str  # the dataset the export's parity used (the test split is run on the device)
    data_dir: Path | None
    gates: dict[str, float]


def reference_of_export(name: str, folder: Path, manifest: dict) -> ExportReference:
    """The reference, contract, data and gates of the export of ``name`` in ``folder``."""
    from edgeflow.runtimes.onnxruntime_runner import OnnxRuntimeRunner
    from edgeflow.runtimes.torch_runner import TorchRunner

    source = manifest.get("source") or {}
    data = manifest.get("parity_data") or {}
    data_dir = Path(data["data_dir"]) if data.get("data_dir") else None
    if source.get("kind", "zoo") == "zoo":
        loaded = model_of_export(name, manifest)
        return ExportReference(loaded.card, TorchRunner(loaded.model), data.get("data", EMBEDDED), data_dir,
                               loaded.card.tolerances)
    onnx = folder / ONNX_FILE
    verify_artifacts(folder, name, [onnx])
    runner = OnnxRuntimeRunner(onnx)
    runner.name = USER_REFERENCE
    parity = folder / "parity.json"
    gates = (read_json(parity, "parity results").get("gates") or {}) if parity.is_file() else {}
    card = contract_of_export(manifest, {**DEFAULT_TOLERANCES, **gates})
    if not data.get("data"):
        raise EdgeflowError(f"{folder}/manifest.json does not say which data the export was checked on; re-export "
                            "it with this edgeflow, or pass --data")
    return ExportReference(card, runner, data["data"], data_dir, card.tolerances)


def contract_of_export(manifest: dict, tolerances: dict[str, float]) -> ModelCard:
    """A user's net's input contract, as its export's manifest recorded it."""
    try:
        contract = manifest["input_contract"]
        _, c, h, _ = contract["onnx_input"]["shape"]
        return ModelCard(name=manifest["model"], family="user", paper="", description="", in_chans=int(c),
                         img_size=int(h), mean=tuple(contract["mean"]), std=tuple(contract["std"]), dataset="",
                         classes=tuple(contract["classes"]), tolerances=dict(tolerances)).checked("manifest.json")
    except (KeyError, TypeError, ValueError) as e:
        raise EdgeflowError(f"the manifest of {manifest.get('model')!r} has no usable input contract ({e}); "
                            "re-export it") from e


def model_of_export(name: str, manifest: dict) -> LoadedModel:
    """The PyTorch net a zoo export was made from (same weights, same exit): the reference for its parity."""
    source = manifest.get("source") or {}
    if source.get("random_init"):
        return load_model(name, random_init=True, exit=source.get("exit"))
    loaded = load_model(name, exit=source.get("exit"))
    if source.get("sha256") and loaded.source["sha256"] != source["sha256"]:
        raise EdgeflowError(f"the export of {name} was made from another checkpoint ({source.get('checkpoint')}, "
                            f"sha256 {source['sha256'][:12]}…) than models/{name}/weights.pt; re-export it with "
                            f"`edgeflow export {name} --force` to compare against the committed weights")
    return loaded


def export_name(spec: str, folder: Path | None = None) -> str:
    """The export name ``bench`` looks for: a zoo name as it is, a user's source (file.py:function,
    torchvision:NAME, .pt2, .onnx) as ``export`` named it, or the name of an existing export of a user's net
    (in export/NAME or ``folder``)."""
    from edgeflow.paths import export_dir
    from edgeflow.zoo.registry import check_model_name, list_models
    from edgeflow.zoo.sources import parse_source

    if spec in list_models():
        return spec
    if ":" in spec or spec.endswith((".pt2", ".onnx")):
        return parse_source(spec, list_models()).name
    if ((folder or export_dir() / spec) / "manifest.json").is_file():
        return spec
    check_model_name(spec)  # an unknown plain name: say which zoo names come close
    return spec
