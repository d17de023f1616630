"""A classifier given as an .onnx file: the pipeline starts at the ONNX stage, and the reference for parity
is that file on ONNX Runtime fp32 (there is no PyTorch net to compare against).

The file must look like an image classifier: one float32 input N,C,H,W with C, H and W fixed (N dynamic or
1), one output N,classes. Anything else is refused in one line before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeflow.errors import EdgeflowError

REFERENCE_RUNTIME = "onnxruntime (source .onnx)"  # how parity tables name the reference of an ONNX source


@dataclass(frozen=True)
class OnnxSignature:
    input_name: str
    output_name: str
    chw: tuple[int, int, int]
    batch: int | None  # None: a dynamic batch axis
    classes: int | None  # None: not fixed in the file

    @property
    def input_shape(self) -> str:
        """As ``--input-shape`` takes it: C,H,W."""
        return ",".join(map(str, self.chw))


def read_signature(path: Path) -> OnnxSignature:
    """The one image input and one logits output of the ONNX model at ``path``; EdgeflowError otherwise."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
        onnx.checker.check_model(model)
    except Exception as e:  # onnx raises DecodeError, ValidationError, ... for a damaged or foreign file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise EdgeflowError(f"{path.name} is not a valid ONNX model ({first[:160]})") from e
    weights = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise EdgeflowError(f"{path.name} has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); an image "
                            "classifier takes one N,C,H,W image tensor")
    if len(model.graph.output) != 1:
        raise EdgeflowError(f"{path.name} has {len(model.graph.output)} outputs; one N,classes logits output is "
                            "expected")
    inp, out = inputs[0], model.graph.output[0]
    if inp.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        kind = onnx.TensorProto.DataType.Name(inp.type.tensor_type.elem_type).lower()
        raise EdgeflowError(f"{path.name}: input {inp.name!r} is {kind}; a float32 N,C,H,W image was expected")
    dims = _dims(inp)
    if len(dims) != 4:
        raise EdgeflowError(f"{path.name}: input {inp.name!r} has shape {_show(dims)}; an image classifier takes "
                            "N,C,H,W (rank 4)")
    if any(d is None for d in dims[1:]):
        raise EdgeflowError(f"{path.name}: input {inp.name!r} has shape {_show(dims)} with a dynamic C, H or W; "
                            "export it with a fixed image size (only the batch axis may be dynamic)")
    if dims[0] not in (None, 1):
        raise EdgeflowError(f"{path.name}: input {inp.name!r} has a fixed batch of {dims[0]}; export it with batch "
                            "1 or a dynamic batch axis")
    out_dims = _dims(out)
    if len(out_dims) != 2:
        raise EdgeflowError(f"{path.name}: output {out.name!r} has shape {_show(out_dims)}; a classifier returns "
                            "N,classes logits")
    return OnnxSignature(inp.name, out.name, tuple(dims[1:]), dims[0], out_dims[1])


def check_against_contract(sig: OnnxSignature, in_chans: int, img_size: int, classes: int, name: str) -> None:
    """The contract (flags or card) must describe the file's own input and output."""
    want = (in_chans, img_size, img_size)
    if sig.chw != want:
        raise EdgeflowError(f"{name} takes {'x'.join(map(str, sig.chw))} images, but the contract says "
                            f"{'x'.join(map(str, want))}; drop --input-shape (it is read from the file) or fix it")
    if sig.classes is not None and sig.classes != classes:
        raise EdgeflowError(f"{name} returns {sig.classes} logits, but the contract names {classes} classes")


def _dims(value) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]


def _show(dims: list[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


def onnx_provenance(spec: str, path: Path, *, checkpoint: Path | None, random_init: bool,
                    exit: int | None) -> dict:
    """What the manifest records of an ONNX source; the flags that only make sense for a PyTorch net are
    refused."""
    from edgeflow.files import file_sha256

    if checkpoint is not None or random_init:
        raise EdgeflowError(f"{path.name} carries its own weights: drop --checkpoint/--random-init")
    if exit is not None:
        raise EdgeflowError("--exit applies to self-distillation zoo nets, not to an .onnx file")
    return {"spec": spec, "kind": "onnx", "defined_by": path.name, "definition_sha256": file_sha256(path),
            "reference": f"{REFERENCE_RUNTIME} fp32"}
