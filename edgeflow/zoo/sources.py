"""Where a net comes from: a zoo name, a Python function in a file or module, a torchvision model, a
program saved with ``torch.export.save`` (.pt2), or an ONNX file (``zoo.onnx_source``). The manifest records
the source and the sha256 of the file that defined the net.

Importing ``file.py:function`` runs that file: it is the user's own code, run as they would run it.
Weights are never unpickled outside ``torch.load(weights_only=True)``; a .pt2 is read tensors-only.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch.nn as nn

from edgeflow.errors import EdgeflowError
from edgeflow.files import file_sha256

FORMS = ("a zoo name, path/to/file.py:function, package.module:function, torchvision:NAME, model.pt2 or "
         "model.onnx")


@dataclass(frozen=True)
class ModelSource:
    spec: str  # as the user wrote it
    kind: str  # zoo | python-file | python-module | torchvision | pt2 | onnx
    target: str  # zoo/torchvision name, function name, or ""
    path: Path | None = None  # the file that defines the net (python file, .pt2, .onnx)

    @property
    def name(self) -> str:
        """A name for folders and reports: the zoo/torchvision name, FILE.FUNCTION, or the file's stem."""
        if self.kind in ("zoo", "torchvision"):
            return self.target
        if self.kind in ("pt2", "onnx"):
            return self.path.stem if self.path else self.spec
        stem = self.path.stem if self.path else self.spec.split(":")[0].rsplit(".", 1)[-1]
        return f"{stem}.{self.target}"

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {"spec": self.spec, "kind": self.kind}
        if self.path is not None:
            found.update(defined_by=self.path.name, definition_sha256=file_sha256(self.path))
        elif self.kind == "python-module":
            module = sys.modules.get(self.spec.split(":")[0])
            origin = getattr(module, "__file__", None)
            if origin:
                found.update(defined_by=Path(origin).name, definition_sha256=file_sha256(Path(origin)))
        return found


def parse_source(spec: str, zoo: list[str]) -> ModelSource:
    """Which kind of source ``spec`` names; EdgeflowError for one that names none (nothing is run yet)."""
    if spec in zoo:
        return ModelSource(spec, "zoo", spec)
    if spec.startswith("torchvision:"):
        return ModelSource(spec, "torchvision", spec.split(":", 1)[1])
    if spec.endswith((".pt2", ".onnx")):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise EdgeflowError(f"no such file: {spec}")
        return ModelSource(spec, path.suffix[1:], "", path.resolve())
    if ":" in spec:
        where, func = spec.rsplit(":", 1)
        if not func.isidentifier():
            raise EdgeflowError(f"{spec}: {func!r} is not a Python function name")
        if where.endswith(".py"):
            path = Path(where).expanduser()
            if not path.is_file():
                raise EdgeflowError(f"no such file: {where}")
            return ModelSource(spec, "python-file", func, path.resolve())
        return ModelSource(spec, "python-module", func)
    raise EdgeflowError(f"unknown model {spec!r}: give {FORMS}. See `edgeflow models list` for the zoo.")


def build_from_source(src: ModelSource, num_classes: int) -> nn.Module:
    """Build the net a non-zoo source describes (untrained, except a .pt2, which carries its weights)."""
    if src.kind == "pt2":
        return _load_pt2(src.path)
    if src.kind == "torchvision":
        return _torchvision(src.target, num_classes)
    func = _function(src)
    try:
        model = func()
    except Exception as e:  # the user's code: say where it failed, in one line
        raise EdgeflowError(f"{src.spec} raised {type(e).__name__}: {e}") from e
    if not isinstance(model, nn.Module):
        raise EdgeflowError(f"{src.spec} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _function(src: ModelSource):
    if src.kind == "python-file":
        name = f"edgeflow_user_{src.path.stem}"
        spec = importlib.util.spec_from_file_location(name, src.path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise EdgeflowError(f"importing {src.path.name} failed: {type(e).__name__}: {e}") from e
    else:
        module_name = src.spec.rsplit(":", 1)[0]
        try:
            module = importlib.import_module(module_name)
        except Exception as e:
            raise EdgeflowError(f"cannot import {module_name}: {type(e).__name__}: {e}") from e
    func = getattr(module, src.target, None)
    if not callable(func):
        raise EdgeflowError(f"{src.spec}: {src.path.name if src.path else module.__name__} defines no function "
                            f"{src.target!r}")
    return func


def _torchvision(name: str, num_classes: int) -> nn.Module:
    torchvision = _import_torchvision()
    if name not in torchvision.models.list_models():
        raise EdgeflowError(f"torchvision has no model {name!r}")
    return torchvision.models.get_model(name, weights=None, num_classes=num_classes)  # nothing is downloaded


def _import_torchvision():
    """torchvision, also where its compiled ops cannot load: PyPI's only Linux wheel is built against CUDA
    torch, so beside a CPU torch its ``_C`` library fails and its import then stops at the fake-kernel
    registration of two detection ops (nms, qnms). Classification models use neither: declaring their schemas
    lets the pure-Python model definitions import; calling either op would still fail loudly."""
    try:
        import torchvision
    except ImportError as e:
        raise EdgeflowError("torchvision:NAME needs torchvision (pip install torchvision, the build that matches "
                            "your torch)") from e
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise EdgeflowError(f"torchvision does not load beside this torch ({str(e).splitlines()[0]})") from e
        import torch

        for module in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[module]  # the half-imported package
        global _TORCHVISION_OPS
        _TORCHVISION_OPS = torch.library.Library("torchvision", "DEF")
        for op in ("nms", "qnms"):  # the schemas torchvision's own C++ library would have declared
            _TORCHVISION_OPS.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import torchvision
    return torchvision


_TORCHVISION_OPS = None  # kept alive: a torch.library.Library drops its definitions when collected


def _load_pt2(path: Path) -> nn.Module:
    import torch

    try:
        with _tensors_only():
            return _ExportedProgram(torch.export.load(str(path)).module())
    except EdgeflowError:
        raise
    except Exception as e:  # a damaged or foreign archive
        raise EdgeflowError(f"{path.name} is not a program saved with torch.export.save "
                            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from e


class _ExportedProgram(nn.Module):
    """A loaded .pt2 as an ordinary module. Its train/eval behaviour was fixed when it was exported (the
    graph module refuses ``eval()``), so switching modes here changes nothing below."""

    def __init__(self, graph_module: nn.Module) -> None:
        super().__init__()
        self.program = graph_module
        inputs = [n for n in graph_module.graph.nodes if n.op == "placeholder" and "val" in n.meta]
        batch = inputs[-1].meta["val"].shape[0] if inputs else None
        self.static_batch = batch if isinstance(batch, int) else None  # exported for a fixed batch size

    def forward(self, x):
        if self.static_batch == 1 and x.shape[0] != 1:  # a program exported for one image runs one at a time
            import torch

            return torch.cat([self.program(x[i:i + 1]) for i in range(x.shape[0])])
        return self.program(x)

    def train(self, mode: bool = True) -> "_ExportedProgram":
        self.training = mode
        return self


@contextmanager
def _tensors_only() -> Iterator[None]:
    """``torch.export.load`` falls back to ``torch.load(weights_only=False)`` and ``pickle.loads`` for some
    entries of an archive: inside this block both read tensors only, so a crafted .pt2 cannot run code."""
    import pickle

    import torch

    real_load, real_loads = torch.load, pickle.loads

    def tensors_only(*args: Any, **kw: Any) -> Any:
        return real_load(*args, **{**kw, "weights_only": True})

    def refuse(*args: Any, **kw: Any) -> Any:
        raise EdgeflowError("the .pt2 archive holds pickled Python objects; refused (only tensors are read)")

    torch.load, pickle.loads = tensors_only, refuse
    try:
        yield
    finally:
        torch.load, pickle.loads = real_load, real_loads
