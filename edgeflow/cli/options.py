"""Options several commands share, defined once (typer ``Annotated`` aliases)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ModelName = Annotated[str, typer.Argument(help="Registered model name (see `edgeflow models list`).")]
Checkpoint = Annotated[Optional[Path], typer.Option(help="Checkpoint [default: models/NAME/weights.pt].")]
RandomInit = Annotated[bool, typer.Option("--random-init", help="Untrained weights (seed 0).")]
Data = Annotated[str, typer.Option(help="Dataset for calibration (train split) and parity (test split).")]
DataDir = Annotated[Optional[Path], typer.Option(help="Folder holding the dataset files.")]
ParitySamples = Annotated[Optional[int], typer.Option(min=1, help="Test images for parity [default: all].")]
CalibSamples = Annotated[int, typer.Option(min=1, help="Training images used to calibrate int8.")]
CalibDir = Annotated[Optional[Path], typer.Option("--calib", help="Folder of calibration images for int8 (any "
                                                  "size/colour; flat or <class>/ folders) [default: the --data "
                                                  "train split].")]
PerTensor = Annotated[bool, typer.Option("--per-tensor", help="Per-tensor weight scales (default per-channel).")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON (what the result files hold) instead of the table.")]
# parity gates: unset keeps the card's [tolerances]; out-of-range values are refused (cli.report.gate_overrides)
MaxAbsDiff = Annotated[Optional[float], typer.Option(
    help="Gate: fp32 max |logit diff| vs PyTorch (plus the card's fp32_max_rel_diff × max |logit|).")]
MinAgreement = Annotated[Optional[float], typer.Option(help="Gate: fp32 top-1 agreement (0-1).")]
MaxInt8Drop = Annotated[Optional[float], typer.Option(help="Gate: int8 accuracy drop, pp (0-100).")]
MinInt8Agreement = Annotated[Optional[float], typer.Option(help="Gate: int8 top-1 agreement with the reference (0-1).")]
AcceptNewHostKey = Annotated[bool, typer.Option("--accept-new-host-key",
                                                help="Trust an SSH host seen for the first time.")]
# a user's own net (MODEL given as file.py:function, module:function, torchvision:NAME, model.pt2, model.onnx)
ModelSpec = Annotated[str, typer.Argument(
    metavar="MODEL", help="A zoo name (see `edgeflow models list`), path/to/file.py:function, "
                          "package.module:function, torchvision:NAME, model.pt2, or model.onnx.")]
CardFile = Annotated[Optional[Path], typer.Option("--card", help="Your net's input contract as a card file "
                                                  "([input] in_chans, img_size, mean, std, classes).")]
InputShape = Annotated[Optional[str], typer.Option(help="Your net's input C,H,W, e.g. 3,224,224.")]
Mean = Annotated[Optional[str], typer.Option(help="Per-channel mean after x/255, e.g. 0.485,0.456,0.406 [0].")]
Std = Annotated[Optional[str], typer.Option(help="Per-channel std after x/255 [1].")]
Classes = Annotated[Optional[str], typer.Option(help="Class names in label order, comma-separated "
                                                "[default: the --data folder's class folders].")]
Converter = Annotated[str, typer.Option(
    help="TFLite converter: onnx2tf, litert-torch (PyTorch → LiteRT directly; pip install 'edgeflow[litert]'), "
         "or all (both, side by side in one parity table).")]
