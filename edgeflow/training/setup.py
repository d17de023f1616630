"""Everything a run needs before its first batch: data splits, device, teacher, net, optimizer, resumed state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from edgeflow.data import load_dataset, preprocess
from edgeflow.errors import EdgeflowError
from edgeflow.training import distributed as ddp
from edgeflow.training.recipe import TrainConfig
from edgeflow.zoo.cards import ModelCard, get_card
from edgeflow.zoo.checkpoint import default_checkpoint, load_weights
from edgeflow.zoo.loading import build_model


@dataclass
class Split:
    x: torch.Tensor
    y: torch.Tensor


def check_writable(path: Path) -> None:
    folder = path if path.is_dir() else path.parent
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise EdgeflowError(f"cannot write to {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise EdgeflowError(f"cannot write to {folder}: permission denied; pass --out/--run-dir elsewhere")


def load_splits(card: ModelCard, data: str, data_dir: Path | None, config: TrainConfig) -> dict[str, Any]:
    train_set = load_dataset(data, "train", data_dir, img_size=card.img_size, in_chans=card.in_chans)
    test_set = load_dataset(data, "test", data_dir, img_size=card.img_size, in_chans=card.in_chans)
    card.check_fits(train_set)
    card.check_fits(test_set)
    train_set = train_set.subset(config.max_train_samples)
    test_set = test_set.subset(config.max_test_samples)
    n_val = config.val_samples
    if n_val and n_val > len(train_set) // 2:
        raise EdgeflowError(f"--val-samples {n_val} leaves too few of the {len(train_set)} training images; "
                            "use at most half, or 0 to keep the last epoch")
    order = np.random.default_rng(config.seed).permutation(len(train_set))
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])

    def split(images: np.ndarray, labels: np.ndarray) -> Split:
        return Split(torch.from_numpy(preprocess(images, card.mean, card.std)), torch.from_numpy(labels))

    return {"train": split(train_set.images[train_idx], train_set.labels[train_idx]),
            "val": split(train_set.images[val_idx], train_set.labels[val_idx]) if n_val else None,
            "test": split(test_set.images, test_set.labels),
            "train_sha256": train_set.sha256()}


def resolve_device(device: str, world: ddp.World) -> torch.device:
    """``cpu`` or ``cuda[:N]``; a GPU that is not there is a clear error, never a silent CPU run."""
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise EdgeflowError(f"--device {device!r}: expected cpu or cuda (cuda:N for another GPU)") from e
    if dev.type not in ("cpu", "cuda"):
        raise EdgeflowError(f"--device {device!r}: expected cpu or cuda (cuda:N for another GPU)")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise EdgeflowError(f"--device {device}: torch sees no CUDA GPU (no NVIDIA driver/GPU, or a CPU-only "
                                f"torch {torch.__version__}); train on --device cpu")
        if world.distributed:
            raise EdgeflowError("--device cuda trains in one process; torchrun runs are CPU-only (gloo)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise EdgeflowError(f"--device {device}: only {torch.cuda.device_count()} GPU(s) visible")
        # deterministic cuBLAS needs a fixed workspace, set before its first call
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return dev


def device_name(dev: torch.device) -> str:
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"


def load_teacher(config: TrainConfig, card: ModelCard) -> nn.Module | None:
    if not config.teacher:
        return None
    teacher_card = get_card(config.teacher)
    if teacher_card.input_shape != card.input_shape or len(teacher_card.classes) != len(card.classes):
        raise EdgeflowError(f"teacher {config.teacher} takes {teacher_card.input_shape[1:]} with "
                            f"{len(teacher_card.classes)} classes; {card.name} takes {card.input_shape[1:]} "
                            f"with {len(card.classes)}")
    teacher = build_model(config.teacher, teacher_card)
    path = Path(config.teacher_checkpoint) if config.teacher_checkpoint else default_checkpoint(config.teacher)
    load_weights(teacher, path, config.teacher)
    return teacher.eval().to(memory_format=torch.channels_last)


def make_optimizer(params: list[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                           weight_decay=config.weight_decay)
