"""One epoch of training: seeded batches, the loss (plain, teacher-student or self-distillation), the
learning-rate schedule, and the per-epoch record."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from edgeflow.errors import EdgeflowError
from edgeflow.training.augment import augment_batch
from edgeflow.training.evaluate import AllExits, exit_accuracies
from edgeflow.training.losses import self_distill_loss, teacher_student_loss
from edgeflow.training.recipe import TrainConfig
from edgeflow.training.setup import Split


@dataclass
class Progress:
    """Where the run stands; saved with the state so a resumed run continues the same epoch."""

    epoch: int = 0
    batches_done: int = 0  # in the current epoch
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    best_val: float = -1.0
    best_epoch: int = 0
    elapsed_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class EpochPlan:
    """What every epoch of a run needs; built once by the loop."""

    config: TrainConfig
    model: nn.Module  # what is called: the (possibly DDP-wrapped) AllExits view
    view: AllExits
    opt: torch.optim.Optimizer
    teacher: nn.Module | None
    train: Split
    augment: str
    dev: torch.device
    local_batch: int
    steps_per_epoch: int
    total: int
    warmup: int


def lr_at(step: int, total: int, warmup: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 0 (or constant)."""
    if step < warmup:
        return config.lr * (step + 1) / warmup
    if config.schedule == "constant":
        return config.lr
    return 0.5 * config.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def batch_loss(plan: EpochPlan, logits: list[torch.Tensor], features: list[torch.Tensor], xb: torch.Tensor,
               yb: torch.Tensor) -> torch.Tensor:
    c = plan.config
    if plan.view.multi_exit:
        return self_distill_loss(logits, features, yb, alpha=c.kd_weight, temperature=c.temperature,
                                 hint_weight=c.hint_weight, label_smoothing=c.label_smoothing)
    if plan.teacher is not None:
        with torch.no_grad():
            soft = plan.teacher(xb)
        return teacher_student_loss(logits[0], soft, yb, alpha=c.kd_weight, temperature=c.temperature,
                                    label_smoothing=c.label_smoothing)
    return F.cross_entropy(logits[0], yb, label_smoothing=c.label_smoothing)


def train_one_epoch(plan: EpochPlan, prog: Progress, order: torch.Tensor, after_batch: Callable[[int], None]) -> None:
    """Batches ``prog.batches_done`` .. the end of epoch ``prog.epoch`` in ``order``; ``after_batch(b)``
    runs after each (progress bar, Ctrl-C check). Every batch's augmentation is seeded by (seed, epoch,
    batch), so a resumed run draws exactly what an uninterrupted one would."""
    c, epoch = plan.config, prog.epoch
    plan.model.train()
    for b in range(prog.batches_done, plan.steps_per_epoch):
        idx = order[b * plan.local_batch:(b + 1) * plan.local_batch]
        gen = torch.Generator().manual_seed(c.seed * 1_000_003 + epoch * 10_007 + b)
        xb = augment_batch(plan.train.x[idx], plan.augment, gen).to(plan.dev).contiguous(
            memory_format=torch.channels_last)
        yb = plan.train.y[idx].to(plan.dev)
        for g in plan.opt.param_groups:
            g["lr"] = lr_at(epoch * plan.steps_per_epoch + b, plan.total, plan.warmup, c)
        logits, features = plan.model(xb)
        loss = batch_loss(plan, logits, features, xb, yb)
        if not torch.isfinite(loss):
            raise EdgeflowError(f"training diverged (loss {loss.item()}) at epoch {epoch + 1}; "
                                f"lower --lr (now {c.lr})")
        plan.opt.zero_grad(set_to_none=True)
        loss.backward()
        plan.opt.step()
        prog.batches_done = b + 1
        prog.loss_sum += loss.item() * len(idx)
        prog.correct += int((logits[-1].argmax(1) == yb).sum())
        prog.seen += len(idx)
        after_batch(b)


def end_epoch(prog: Progress, view: AllExits, val: Split | None, config: TrainConfig,
               opt: torch.optim.Optimizer, started: float) -> None:
    record: dict[str, Any] = {"epoch": prog.epoch + 1, "train_loss": prog.loss_sum / max(1, prog.seen),
                              "train_accuracy": prog.correct / max(1, prog.seen),
                              "lr": opt.param_groups[0]["lr"]}
    if val is not None:
        accs = exit_accuracies(view, val.x, val.y)
        record["val_accuracy"] = accs[-1]
        if len(accs) > 1:
            record["val_exit_accuracies"] = accs
    record["wall_s"] = round(time.perf_counter() - started, 1)
    prog.history.append(record)
    prog.epoch += 1
    prog.batches_done, prog.loss_sum, prog.correct, prog.seen = 0, 0.0, 0, 0


def epoch_line(record: dict[str, Any], epochs: int) -> str:
    line = (f"epoch {record['epoch']}/{epochs} loss {record['train_loss']:.3f} "
            f"train {100 * record['train_accuracy']:.2f} %")
    if "val_accuracy" in record:
        line += f" val {100 * record['val_accuracy']:.2f} %"
    if "val_exit_accuracies" in record:
        line += " (exits " + " / ".join(f"{100 * a:.1f}" for a in record["val_exit_accuracies"]) + ")"
    return line + f" {record['wall_s']:.0f} s"
