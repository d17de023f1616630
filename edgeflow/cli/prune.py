"""``edgeflow prune``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class CriterionChoice(str, Enum):
    bn_gamma = "bn_gamma"
    l1 = "l1"


def prune(
    name: Annotated[str, typer.Argument(help="Registered bottleneck ResNet, e.g. resnet50.")],
    ratio: Annotated[float, typer.Option(help="Share of every bottleneck's inner channels to remove, 0 <= R < 1.")],
    out: Annotated[Path, typer.Option(help="File to write: the pruned weights and how they were made.")],
    criterion: Annotated[CriterionChoice, typer.Option(help="Rank channels by BN |gamma| or filter L1.")] = "bn_gamma",
    checkpoint: Annotated[Path | None, typer.Option(help="Checkpoint (default: models/NAME/weights.pt).")] = None,
    random_init: Annotated[bool, typer.Option("--random-init", help="Prune untrained weights (seed 0).")] = False,
    depthwise: Annotated[bool, typer.Option("--depthwise", help="Then split each 3x3 conv into depthwise + "
                                            "pointwise (SVD-initialised), as CResNet does.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
) -> None:
    """Channel-prune NAME's bottlenecks (edgeflow.layers.surgery) and write the smaller net's weights to --out."""
    from edgeflow.workflows.prune import prune_to_file
    from edgeflow.zoo.registry import check_model_name

    check_model_name(name)
    meta = prune_to_file(name, out, ratio=ratio, criterion=criterion.value, depthwise=depthwise,
                         checkpoint=checkpoint, random_init=random_init, force=force)
    before, after = meta["params_before"], meta["params_after"]
    typer.echo(f"wrote {out}: {name} params {before:,} -> {after:,} ({100 * after / before:.1f} % kept)")
