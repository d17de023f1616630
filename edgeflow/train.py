"""Training entry point: ``edgeflow train`` and ``torchrun --nproc_per_node=N -m edgeflow.train`` (same flags).

The loop lives in :mod:`edgeflow.training.loop`; recipes in :mod:`edgeflow.training.recipe`.
"""

from __future__ import annotations

from edgeflow.training.evaluate import evaluate
from edgeflow.training.loop import TrainingInterrupted, TrainResult, train
from edgeflow.training.recipe import TrainConfig

__all__ = ["TrainConfig", "TrainResult", "TrainingInterrupted", "evaluate", "train"]


def main() -> None:
    """``python -m edgeflow.train NAME ...``: the ``edgeflow train`` command on its own (for torchrun)."""
    import typer

    from edgeflow.cli.main import run_command
    from edgeflow.cli.train import train as train_command

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(train_command)
    run_command(app)


if __name__ == "__main__":
    main()
