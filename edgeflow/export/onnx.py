"""PyTorch → ONNX, simplified with onnxsim."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from edgeflow.errors import EdgeflowError
from edgeflow.export.artifact import Artifact, Precision
from edgeflow.runtimes.quiet import native_output_captured
from edgeflow.zoo.cards import ModelCard

INPUT_NAME = "input"
OUTPUT_NAME = "logits"

ONNX_FILE = "model.onnx"  # the float ONNX model in every export folder


def export_onnx(model: nn.Module, card: ModelCard, path: Path, *, opset: int = 17,
                parent: str | None = None) -> Artifact:
    """Export ``model`` (eval mode, NCHW float input, dynamic batch) to ``path`` and simplify it.

    Uses the TorchScript exporter (``dynamo=False``): it needs no extra packages (the dynamo exporter wants
    onnxscript), its graphs convert cleanly with onnx2tf, and its output is checked against PyTorch by the
    parity stage. The batch axis is dynamic so ONNX Runtime can run batches; the TFLite conversion pins it
    to 1 for devices.
    """
    import onnx
    from onnxsim import simplify

    model = model.eval().to(memory_format=torch.contiguous_format)
    dummy = torch.zeros(card.input_shape, dtype=torch.float32)
    chatter = io.StringIO()
    try:
        # native_stderr_captured: on an unsupported op the exporter dumps its whole graph from C++
        with warnings.catch_warnings(), contextlib.redirect_stdout(chatter), native_output_captured():
            warnings.simplefilter("ignore")  # the exporter warns that it is legacy; the choice is deliberate
            torch.onnx.export(model, (dummy,), str(path), opset_version=opset, dynamo=False,
                              input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                              dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    except torch.onnx.errors.UnsupportedOperatorError as e:  # e.g. aten::median: name the op, not the graph
        raise EdgeflowError(f"the ONNX exporter cannot export {card.name}: {str(e).splitlines()[0]}; replace "
                            "that op, or try --converter litert-torch") from e
    simplified, ok = simplify(onnx.load(str(path)))
    if not ok:
        raise RuntimeError("onnxsim could not validate the simplified model")
    onnx.save(simplified, str(path))
    return Artifact.of(path, "onnx", Precision.FP32, parent)


def import_onnx(src: Path, path: Path, *, parent: str | None = None) -> Artifact:
    """A user's ONNX classifier as the export's ``model.onnx``: its input and output renamed to the names every
    later stage uses (``input``/``logits``), then simplified with onnxsim like an exported one. The source
    file itself is only read."""
    import onnx
    from onnxsim import simplify

    model = onnx.load(str(src))
    weights = {i.name for i in model.graph.initializer}
    inp = next(i for i in model.graph.input if i.name not in weights)
    _rename(model.graph, inp.name, INPUT_NAME)
    _rename(model.graph, model.graph.output[0].name, OUTPUT_NAME)
    simplified, ok = simplify(model)
    if not ok:
        raise RuntimeError("onnxsim could not validate the simplified model")
    onnx.save(simplified, str(path))
    return Artifact.of(path, "onnx", Precision.FP32, parent)


def _rename(graph, old: str, new: str) -> None:
    """Rename the value ``old`` wherever the graph (not its subgraphs) defines or uses it."""
    if old == new:
        return
    for value in (*graph.input, *graph.output, *graph.value_info):
        if value.name == old:
            value.name = new
    for node in graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]
