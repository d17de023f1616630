"""``edgeflow train`` (also ``python -m edgeflow.train`` / ``torchrun ... -m edgeflow.train``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeflow.cli.options import Classes, InputShape, Mean, Std

QAT_DEFAULTS = {"epochs": 2, "lr": 0.005, "warmup_epochs": 0.0}  # a short, gentle fine-tune


def train(
    name: Annotated[str, typer.Argument(help="Registered model name (see `edgeflow models list`).")],
    data: Annotated[str, typer.Option(help="Dataset: fashion-mnist, fashion-mnist-embedded, mnist, cifar10, "
                                           "cifar100, svhn, or an ImageFolder path.")] = "fashion-mnist",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the dataset files.")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Training epochs [default: the card's].")] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Global batch size [default: the card's].")] = None,
    optimizer: Annotated[Optional[str], typer.Option(help="sgd or adamw [default: the card's].")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Peak learning rate [default: the card's].")] = None,
    weight_decay: Annotated[Optional[float], typer.Option(help="[default: the card's]")] = None,
    warmup_epochs: Annotated[Optional[float], typer.Option(help="Linear warm-up before cosine [default: the card's].")] = None,
    label_smoothing: Annotated[Optional[float], typer.Option(help="[default: the card's]")] = None,
    augment: Annotated[Optional[str], typer.Option(
        help="auto, none, crop, flip, crop+flip; auto = none for (Fashion-)MNIST, crop+flip for CIFAR [default: the card's].")] = None,
    val_samples: Annotated[Optional[int], typer.Option(
        min=0, help="Training images held out to pick the best epoch; 0 keeps the last epoch [default: the card's].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of weights, shuffle and augmentation [default: the card's].")] = None,
    max_train_samples: Annotated[Optional[int], typer.Option(
        min=1, help="Use only the first N training images.")] = None,
    max_test_samples: Annotated[Optional[int], typer.Option(
        min=1, help="Measure test accuracy on the first N test images only (a quick check) [all].")] = None,
    teacher: Annotated[Optional[str], typer.Option(
        help="Distil from this trained net (its models/NAME/weights.pt), e.g. cov_res18_s3.")] = None,
    teacher_checkpoint: Annotated[Optional[Path], typer.Option(help="The teacher's weights file.")] = None,
    kd_weight: Annotated[Optional[float], typer.Option(
        help="Distillation weight alpha: (1-alpha) CE + alpha T^2 KL, for --teacher and multi-exit nets [default: the card's].")] = None,
    temperature: Annotated[Optional[float], typer.Option(help="Distillation temperature T [default: the card's].")] = None,
    hint_weight: Annotated[Optional[float], typer.Option(
        help="Self-distillation feature-hint L2 weight (multi-exit nets) [default: the card's].")] = None,
    qat: Annotated[bool, typer.Option(
        help="Quantization-aware fine-tuning (fake-quantized weights and activations) from --from.")] = False,
    from_checkpoint: Annotated[Optional[Path], typer.Option(
        "--from", help="Start from these weights (required by --qat).")] = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Best checkpoint [default: models/NAME/weights.pt, or weights_qat.pt with --qat].")] = None,
    run_dir: Annotated[Optional[Path], typer.Option(
        help="Folder for the resumable state, metrics.jsonl and curve.png [default: beside --out].")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run saved in the run folder (its recipe).")] = False,
    half_weights: Annotated[bool, typer.Option(
        help="Store the best checkpoint in float16 (half the file; its test accuracy is measured on those "
             "weights; tensors past float16's range stay float32). For nets whose fp32 file is too big to "
             "commit.")] = False,
    device: Annotated[str, typer.Option(
        help="cpu, or cuda (cuda:N) to train on an NVIDIA GPU; the files written are the same.")] = "cpu",
    force: Annotated[bool, typer.Option(help="Overwrite an existing checkpoint.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or per-epoch lines.")] = False,
    input_shape: InputShape = None,
    mean: Mean = None,
    std: Std = None,
    classes: Classes = None,
) -> None:
    """Train a net with its card's recipe (flags override it) and write the best checkpoint.

    Every epoch writes a resumable state, metrics.jsonl and curve.png to the run folder. Ctrl-C stops at the next batch and saves the state (exit 130); --resume continues exactly where it stopped.

    Nets with several exits train with self-distillation; --teacher NAME distils another net into this one. Several processes: torchrun --nproc_per_node=N -m edgeflow.train NAME ... (same flags).

    Your images: --data PATH (an ImageFolder) with your classes (the folder's) and, with --input-shape C,H,W (and --mean/--std), your input size; the checkpoint (--out, required) records that contract and `edgeflow export NAME --checkpoint FILE --data PATH` uses it.
    """  # noqa: E501 (one line per paragraph: the help formatter wraps it)
    from edgeflow.cli.tables import console
    from edgeflow.errors import EdgeflowError
    from edgeflow.training.distributed import World
    from edgeflow.training.run_files import default_run_dir
    from edgeflow.training.setup import resolve_device
    from edgeflow.training.loop import train as run_training
    from edgeflow.training.recipe import recipe_from_card
    from edgeflow.zoo.cards import get_card
    from edgeflow.zoo.checkpoint import default_checkpoint
    from edgeflow.zoo.contract import zoo_contract
    from edgeflow.zoo.registry import check_model_name

    check_model_name(name)
    contract = zoo_contract(name, input_shape=input_shape, mean=mean, std=std, classes=classes, data=data)
    if contract is not None and out is None:
        raise EdgeflowError(f"training {name} for {contract.name.split('-')[-1]} images and your classes: pass "
                            f"--out FILE (models/{name}/weights.pt holds the zoo net's own weights)")
    if qat and from_checkpoint is None and not resume:
        raise EdgeflowError("--qat fine-tunes trained weights: pass --from CHECKPOINT (e.g. models/NAME/weights.pt)")
    if from_checkpoint is not None and not from_checkpoint.is_file():
        raise EdgeflowError(f"--from {from_checkpoint}: no such file")
    default_out = default_checkpoint(name)
    out = out or (default_out.with_name("weights_qat.pt") if qat else default_out)
    if out.exists() and not (force or resume):
        raise EdgeflowError(f"{out} exists; pass --force to overwrite it, --resume to continue its run, "
                            "or --out to write elsewhere")
    flags = {"epochs": epochs, "batch_size": batch_size, "optimizer": optimizer, "lr": lr,
             "weight_decay": weight_decay, "warmup_epochs": warmup_epochs, "label_smoothing": label_smoothing,
             "augment": augment, "val_samples": val_samples, "seed": seed, "max_train_samples": max_train_samples,
             "max_test_samples": max_test_samples,
             "teacher": teacher, "teacher_checkpoint": str(teacher_checkpoint) if teacher_checkpoint else None,
             "kd_weight": kd_weight, "temperature": temperature, "hint_weight": hint_weight,
             "qat": True if qat else None}
    if qat:
        flags = {**flags, **{k: v for k, v in QAT_DEFAULTS.items() if flags[k] is None}}
    if teacher is not None:
        check_model_name(teacher)
    config = recipe_from_card(get_card(name).train, flags)
    resolve_device(device, World())  # a missing GPU is reported before the recipe is printed
    run_dir = run_dir or default_run_dir(out)
    if not quiet and not resume:
        shown = ", ".join(f"{k}={v}" for k, v in config.as_dict().items() if v is not None and v is not False)
        console.print(f"recipe: {shown}")
    result = run_training(name, out, data=data, data_dir=data_dir, config=config, show_progress=not quiet,
                          run_dir=run_dir, resume=resume, init_checkpoint=from_checkpoint,
                          half_weights=half_weights, device=device, card=contract)
    if result.wall_s == 0.0:  # a non-zero rank under torchrun: rank 0 reports
        return
    exits = ""
    if len(result.exit_accuracies) > 1:
        exits = " (exits " + " / ".join(f"{100 * a:.2f}" for a in result.exit_accuracies) + ")"
    typer.echo(f"{name}: test top-1 {100 * result.test_accuracy:.2f} %{exits}, best epoch {result.best_epoch}/"
               f"{result.epochs} ({result.wall_s / 60:.1f} min) -> {result.checkpoint}; "
               f"metrics and curve in {result.run_dir}")
