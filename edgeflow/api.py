"""The pipeline from Python (a notebook, a script): ``edgeflow.export_model`` takes a live ``nn.Module`` or any
model the CLI takes, with its input contract and data, and returns the result object the CLI prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import torch.nn as nn

    from edgeflow.workflows.export import ExportResult


def export_model(model: "nn.Module | str", *, out: str | Path, input_shape: Sequence[int] | None = None,
           classes: Sequence[str] | None = None, mean: Sequence[float] | None = None,
           std: Sequence[float] | None = None, data: str = "fashion-mnist-embedded", data_dir: str | Path | None = None,
           int8: bool = True, checkpoint: str | Path | None = None, random_init: bool = False, force: bool = False,
           parity_samples: int | None = None, calib_samples: int = 500, bench: bool = False,
           fallback: str = "none", optimize: str = "none", target: str | None = None) -> "ExportResult":
    """Export ``model`` to ONNX and TFLite (fp32, and full int8 with ``int8``), check parity on ``data``.

    ``model`` is a live ``nn.Module`` (its weights as they are now) or a string as on the command line (a
    zoo name, ``file.py:function``, ``module:function``, ``torchvision:NAME``, ``model.pt2``). A user's net
    needs ``input_shape`` (C, H, W); ``classes`` default to the data's, ``mean``/``std`` to 0 and 1.
    Returns an ``ExportResult``: ``bool(result.parity)`` tells whether every gate held; ``result.out_dir``
    holds the files. ``fallback="auto"`` (with ``int8``): when full int8 misses its gate, also a mixed model
    with the fewest layers kept in float that meets it (as ``edgeflow export --fallback auto``);
    ``optimize="latency"``: also the model that keeps in float the op types ``target`` (a device profile,
    default local) runs slower in int8, when faster there (as ``--optimize latency``). Bad input
    raises ``edgeflow.errors.EdgeflowError`` with the message the CLI prints.
    """
    import torch.nn as nn

    from edgeflow.export.artifact import Precision
    from edgeflow.workflows.export import ExportOptions, run_export
    from edgeflow.zoo.contract import contract_for, user_contract

    def csv(v: Sequence | None) -> str | None:
        return None if v is None else ",".join(str(x) for x in v)

    flags = {"input_shape": csv(input_shape), "mean": csv(mean), "std": csv(std), "classes": csv(classes),
             "data": data}
    if isinstance(model, nn.Module):
        spec = type(model).__name__
        contract = user_contract(spec, f"the {spec} module", **flags)
    else:
        spec = model
        contract = contract_for(spec, **flags)
    opts = ExportOptions(precisions=(Precision.FP32, Precision.INT8) if int8 else (Precision.FP32,),
                         checkpoint=Path(checkpoint) if checkpoint else None, random_init=random_init,
                         out_dir=Path(out), force=force, data=data, data_dir=Path(data_dir) if data_dir else None,
                         parity_samples=parity_samples, calib_samples=calib_samples, bench=bench, card=contract,
                         module=model if isinstance(model, nn.Module) else None, fallback=fallback,
                         optimize=optimize, target=target)
    return run_export(spec, opts)

