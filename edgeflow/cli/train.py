"""``edgeflow train``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def train(
    name: Annotated[str, typer.Argument(help="Registered model name (see `edgeflow models list`).")],
    data: Annotated[str, typer.Option(help="Dataset: fashion-mnist, fashion-mnist-embedded, mnist, cifar10, "
                                           "cifar100, svhn, or an ImageFolder path.")] = "fashion-mnist",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset files.")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 15,
    batch_size: Annotated[int, typer.Option(min=1)] = 128,
    lr: Annotated[float, typer.Option(help="Peak learning rate (SGD, cosine after 1 warm-up epoch).")] = 0.1,
    weight_decay: Annotated[float, typer.Option()] = 5e-4,
    seed: Annotated[int, typer.Option()] = 0,
    max_train_samples: Annotated[Optional[int], typer.Option(help="Use only the first N training images.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Checkpoint file [default: models/NAME/weights.pt].")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing checkpoint.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Train a net and write a checkpoint; prints the top-1 accuracy on the test split."""
    from edgeflow.checkpoint import default_checkpoint
    from edgeflow.errors import EdgeflowError
    from edgeflow.registry import check_model_name
    from edgeflow.train import TrainConfig
    from edgeflow.train import train as run_training

    check_model_name(name)
    out = out or default_checkpoint(name)
    if out.exists() and not force:
        raise EdgeflowError(f"{out} exists; pass --force to overwrite it or --out to write elsewhere")
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, seed=seed,
                         max_train_samples=max_train_samples)
    result = run_training(name, out, data=data, data_dir=data_dir, config=config, show_progress=not quiet)
    typer.echo(f"{name}: test top-1 {100 * result.test_accuracy:.2f} % after {result.epochs} epochs "
               f"({result.wall_s / 60:.1f} min) -> {result.checkpoint}")
