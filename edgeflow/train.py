"""Training loop: SGD + cosine schedule with warm-up, progress bar, atomic checkpoint, test accuracy."""

from __future__ import annotations

import math
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from edgeflow.cards import get_card
from edgeflow.checkpoint import save_checkpoint
from edgeflow.data import load_dataset, preprocess
from edgeflow.errors import EdgeflowError
from edgeflow.progress import progress_bar
from edgeflow.registry import create_model


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 15
    batch_size: int = 128
    lr: float = 0.1
    weight_decay: float = 5e-4
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    seed: int = 0
    max_train_samples: int | None = None


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Path
    test_accuracy: float
    epochs: int
    wall_s: float


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    """Top-1 accuracy (fraction) of ``model`` on preprocessed NCHW inputs."""
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            logits = model(torch.from_numpy(x[i:i + batch_size]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch_size]).sum())
    return correct / len(x)


def _lr_at(step: int, total: int, warmup: int, base: float) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    return 0.5 * base * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def train(name: str, out: Path, *, data: str = "fashion-mnist", data_dir: Path | None = None,
          config: TrainConfig = TrainConfig(), show_progress: bool = True) -> TrainResult:
    """Train ``name`` on ``data`` and write the checkpoint to ``out``; returns the test accuracy."""
    card = get_card(name)
    train_set = load_dataset(data, "train", data_dir, img_size=card.img_size, in_chans=card.in_chans)
    test_set = load_dataset(data, "test", data_dir, img_size=card.img_size, in_chans=card.in_chans)
    card.check_fits(train_set)
    if config.max_train_samples:
        train_set = train_set.subset(config.max_train_samples)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    x_train = torch.from_numpy(preprocess(train_set.images, card.mean, card.std))
    y_train = torch.from_numpy(train_set.labels)
    model = create_model(name, num_classes=len(card.classes), in_chans=card.in_chans, img_size=card.img_size)
    # channels_last makes CPU depthwise convs ~1.5x faster to train; weights are saved layout-free.
    model = model.to(memory_format=torch.channels_last)
    x_train = x_train.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                          weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    total, warmup = steps_per_epoch * config.epochs, int(steps_per_epoch * config.warmup_epochs)
    start, step = time.perf_counter(), 0
    with progress_bar(show_progress) as bar:
        task = bar.add_task(f"train {name}", total=total)
        for epoch in range(config.epochs):
            model.train()
            order = torch.from_numpy(rng.permutation(len(x_train)))
            for i in range(0, len(order), config.batch_size):
                idx = order[i:i + config.batch_size]
                for g in opt.param_groups:
                    g["lr"] = _lr_at(step, total, warmup, config.lr)
                loss = F.cross_entropy(model(x_train[idx]), y_train[idx], label_smoothing=config.label_smoothing)
                if not torch.isfinite(loss):
                    raise EdgeflowError(f"training diverged (loss {loss.item()}) at epoch {epoch + 1}; "
                                        f"lower --lr (now {config.lr})")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                bar.update(task, advance=1, description=f"train {name} epoch {epoch + 1}/{config.epochs} "
                                                        f"loss {loss.item():.3f}")
            if not bar.console.is_terminal:  # logs and CI get one line per epoch instead of a bar
                bar.console.print(f"epoch {epoch + 1}/{config.epochs} loss {loss.item():.3f} "
                                  f"{time.perf_counter() - start:.0f} s")
    x_test = preprocess(test_set.images, card.mean, card.std)
    acc = evaluate(model, x_test, test_set.labels)
    wall = time.perf_counter() - start
    meta = {"dataset": data, "train_samples": len(x_train), "epochs": config.epochs,
            "test_accuracy": acc, "test_samples": len(x_test), "wall_s": round(wall, 1),
            "config": config.__dict__, "torch": str(torch.__version__),
            "command": "edgeflow " + shlex.join(sys.argv[1:]) if sys.argv[0].endswith("edgeflow") else ""}
    save_checkpoint(out, name, model, meta)
    return TrainResult(out, acc, config.epochs, wall)
