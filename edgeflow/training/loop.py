"""The training loop: recipe → seeded, resumable epochs → best checkpoint, metrics log and curve.

Deterministic on CPU: the shuffle comes from a seeded DistributedSampler per epoch, augmentation from a
generator seeded per batch, and the global RNG is saved with the state, so a run stopped (Ctrl-C) and
resumed ends with the same weights as one that was never stopped.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch

from edgeflow.errors import EdgeflowError, Interrupted
from edgeflow.files import atomic_write
from edgeflow.progress import progress_bar
from edgeflow.training import distributed as ddp
from edgeflow.training.epoch import EpochPlan, Progress, end_epoch, epoch_line, train_one_epoch
from edgeflow.training.evaluate import AllExits, exit_accuracies
from edgeflow.training.recipe import TrainConfig, resolve_augment
from edgeflow.training.run_files import command_line, default_run_dir, write_metrics
from edgeflow.training.setup import (check_writable, device_name, load_splits, load_teacher, make_optimizer,
                                     resolve_device)
from edgeflow.training.state import STATE_FILE, load_state, save_state
from edgeflow.zoo.cards import ModelCard, contract_record, get_card
from edgeflow.zoo.checkpoint import default_checkpoint, load_weights, round_to_half, save_checkpoint
from edgeflow.zoo.loading import build_model


class TrainingInterrupted(Interrupted):
    """Ctrl-C: the state was saved at a batch boundary; the CLI exits 130."""


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Path
    test_accuracy: float  # of the net's default (deepest) output
    exit_accuracies: list[float]  # one per exit; a single entry for ordinary nets
    epochs: int
    best_epoch: int
    wall_s: float
    run_dir: Path


@contextmanager
def _stop_on_sigint(enabled: bool) -> Iterator[dict[str, bool]]:
    """First Ctrl-C asks the loop to stop at the next batch boundary; a second one aborts at once."""
    flag = {"stop": False}
    if not enabled:
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag["stop"]:
            if callable(previous):  # the CLI's own handler: one line and exit 130
                previous(signum, frame)
            raise KeyboardInterrupt
        flag["stop"] = True

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def train(name: str, out: Path, *, data: str = "fashion-mnist", data_dir: Path | None = None,
          config: TrainConfig = TrainConfig(), show_progress: bool = True, run_dir: Path | None = None,
          resume: bool = False, init_checkpoint: Path | None = None, half_weights: bool = False,
          device: str = "cpu", card: ModelCard | None = None) -> TrainResult:
    """Train ``name`` on ``data``: best weights to ``out``, state/metrics/curve to ``run_dir``.

    ``card``: another input contract than the zoo card's (a user's images, input size and classes,
    ``zoo.contract.zoo_contract``); the checkpoint records it, so ``export`` builds the net the same way.

    ``half_weights`` stores the final checkpoint in float16; its test accuracy is measured on those weights.
    ``device`` is ``cpu`` or ``cuda``; files are written the same either way and load on any machine.
    """
    world = ddp.join_world()
    try:
        return _train(name, out, data, data_dir, config, show_progress, run_dir or default_run_dir(out),
                      resume, init_checkpoint, half_weights, world, resolve_device(device, world), card)
    finally:
        ddp.leave_world(world)


@dataclass
class _Run:
    """One training run's fixed facts: what is trained, on what, where its files go."""

    name: str
    data: str
    data_dir: Path | None
    out: Path
    run_dir: Path
    world: ddp.World
    dev: torch.device
    config: TrainConfig
    contract: ModelCard | None = None  # a contract other than the zoo card's


def _train(name: str, out: Path, data: str, data_dir: Path | None, config: TrainConfig, show_progress: bool,
           run_dir: Path, resume: bool, init_checkpoint: Path | None, half_weights: bool,
           world: ddp.World, dev: torch.device, contract: ModelCard | None = None) -> TrainResult:
    card = contract or get_card(name)
    state = load_state(run_dir / STATE_FILE, name, data) if resume else None
    if state is not None:
        config = TrainConfig(**state["config"])  # a resumed run keeps its recipe
    if config.batch_size % world.size:
        raise EdgeflowError(f"batch size {config.batch_size} does not split evenly over {world.size} processes")
    check_writable(out)
    check_writable(run_dir)
    splits = load_splits(card, data, data_dir, config)
    if state is not None and state["train_sha256"] != splits["train_sha256"]:
        raise EdgeflowError(f"training state in {run_dir} was made with other training images; start afresh "
                            "without --resume")
    teacher = load_teacher(config, card)
    if teacher is not None:
        teacher = teacher.to(dev)

    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    net = build_model(name, card)
    if init_checkpoint is not None:
        load_weights(net, init_checkpoint, name)
    view = AllExits(net)
    if teacher is not None and view.multi_exit:
        raise EdgeflowError(f"{name} has several exits and teaches itself (self-distillation); drop --teacher")
    qat_handle = None
    if config.qat:
        from edgeflow.training.qat import prepare_qat

        if init_checkpoint is None and state is None:
            raise EdgeflowError("--qat fine-tunes trained weights: pass --from CHECKPOINT")
        qat_handle = prepare_qat(net, splits["train"].x[:512])
    # channels_last makes CPU depthwise convs ~1.5x faster to train; weights are saved layout-free.
    view = view.to(dev, memory_format=torch.channels_last)
    model = ddp.wrap(view, world)
    opt = make_optimizer([p for p in view.parameters() if p.requires_grad], config)
    prog = Progress()
    if state is not None:
        net.load_state_dict(state["weights"])
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if dev.type == "cuda" and "cuda_rng" in state:  # dropout on the GPU draws from its own generator
            torch.cuda.set_rng_state(state["cuda_rng"], dev)
        prog = Progress(**state["progress"])

    sampler = ddp.shard_sampler(len(splits["train"].x), world, config.seed)
    local_batch = config.batch_size // world.size
    steps = math.ceil(len(sampler) / local_batch)
    plan = EpochPlan(config, model, view, opt, teacher, splits["train"],
                     resolve_augment(config.augment, data), dev, local_batch, steps, steps * config.epochs,
                     int(steps * config.warmup_epochs))
    run = _Run(name, data, data_dir, out, run_dir, world, dev, config, contract)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter() - prog.elapsed_s
    first_shard = _epochs(run, plan, prog, sampler, splits, net, qat_handle, show_progress, started)
    replicas = ddp.replica_report(world, net, first_shard)
    if not world.is_main:
        return TrainResult(out, float("nan"), [], config.epochs, prog.best_epoch, 0.0, run_dir)
    return _finish(run, card, splits["test"], prog, replicas, half_weights, started)


def _epochs(run: _Run, plan: EpochPlan, prog: Progress, sampler, splits: dict[str, Any], net: torch.nn.Module,
            qat_handle, show_progress: bool, started: float) -> list[int]:
    """Every remaining epoch; after each the best weights, the resumable state and the metrics are saved.
    Returns the first epoch's shard (for the replica report)."""
    config, world, name = run.config, run.world, run.name
    val_split = splits["val"]
    first_shard: list[int] = []
    augment = plan.augment

    def save_run_state() -> None:
        prog.elapsed_s = time.perf_counter() - started
        save_state(run.run_dir / STATE_FILE, {
            "model": name, "dataset": run.data, "train_sha256": splits["train_sha256"], "config": config.as_dict(),
            "weights": net.state_dict(), "optimizer": plan.opt.state_dict(), "torch_rng": torch.get_rng_state(),
            "progress": dict(prog.__dict__),
            **({"cuda_rng": torch.cuda.get_rng_state(run.dev)} if run.dev.type == "cuda" else {})})

    def save_weights(meta: dict[str, Any]) -> None:
        weights = net if qat_handle is None else qat_handle.plain_copy()
        save_checkpoint(run.out, name, weights, {
            "dataset": run.data, "train_samples": len(plan.train.x),
            "val_samples": 0 if val_split is None else len(val_split.x), "epochs": config.epochs,
            "config": config.as_dict(), "augment": augment, "world_size": world.size,
            "torch": str(torch.__version__), "device": device_name(run.dev), "command": command_line(), **meta})

    interactive = world.is_main and show_progress
    with progress_bar(interactive) as bar, _stop_on_sigint(not world.distributed) as flag:
        task = bar.add_task(f"train {name}", total=plan.total,
                            completed=prog.epoch * plan.steps_per_epoch + prog.batches_done)

        def after_batch(b: int) -> None:
            bar.update(task, advance=1, description=f"train {name} epoch {prog.epoch + 1}/{config.epochs} "
                       f"loss {prog.loss_sum / prog.seen:.3f} acc {100 * prog.correct / prog.seen:.1f} %")
            if flag["stop"] and b + 1 < plan.steps_per_epoch:
                if world.is_main:
                    save_run_state()
                raise TrainingInterrupted(
                    f"stopped at epoch {prog.epoch + 1}, batch {b + 1}/{plan.steps_per_epoch}; state saved in "
                    f"{run.run_dir}. Resume with: {_resume_command(run)}")

        while prog.epoch < config.epochs:
            epoch = prog.epoch
            sampler.set_epoch(epoch)
            order = torch.tensor(list(sampler), dtype=torch.long)
            if epoch == 0:
                first_shard = order.tolist()
            train_one_epoch(plan, prog, order, after_batch)
            ddp.sync_buffers(plan.view, world)
            end_epoch(prog, plan.view, val_split if world.is_main else None, config, plan.opt, started)
            if world.is_main:
                record = prog.history[-1]
                if val_split is None or record["val_accuracy"] > prog.best_val:
                    prog.best_val, prog.best_epoch = record.get("val_accuracy", 0.0), epoch + 1
                    save_weights({"best_epoch": epoch + 1, "val_accuracy": record.get("val_accuracy")})
                save_run_state()
                write_metrics(run.run_dir, prog.history, name)
                if not bar.console.is_terminal or not interactive:  # logs and CI get one line per epoch
                    if show_progress:
                        bar.console.print(epoch_line(record, config.epochs))
            ddp.barrier(world)
            if flag["stop"]:
                raise TrainingInterrupted(f"stopped after epoch {epoch + 1}; state saved in {run.run_dir}. "
                                          f"Resume with: {_resume_command(run)}")
    return first_shard


def _finish(run: _Run, card, test, prog: Progress, replicas: Any, half_weights: bool, started: float) -> TrainResult:
    """The best epoch's weights (already in ``out``) get the test accuracy added to their metadata."""
    best = build_model(run.name, card)
    meta = load_weights(best, run.out, run.name)
    if half_weights:
        round_to_half(best)
    accs = exit_accuracies(AllExits(best).to(run.dev, memory_format=torch.channels_last), test.x, test.y)
    wall = time.perf_counter() - started
    meta.update({"test_accuracy": accs[-1], "test_exit_accuracies": accs, "test_samples": len(test.x),
                 "wall_s": round(wall, 1)})
    if run.contract is not None:  # export reads it back (zoo.contract.contract_for)
        meta["input_contract"] = contract_record(run.contract)
    save_checkpoint(run.out, run.name, best, meta, half=half_weights)
    result = {"model": run.name, "checkpoint": os.path.relpath(run.out, run.run_dir),  # relative: no machine paths
              "test_accuracy": accs[-1], "test_exit_accuracies": accs,
              "best_epoch": prog.best_epoch, "epochs": run.config.epochs, "wall_s": round(wall, 1),
              "replicas": replicas}
    atomic_write(run.run_dir / "result.json", lambda tmp: tmp.write_text(json.dumps(result, indent=2) + "\n"))
    return TrainResult(run.out, accs[-1], accs, run.config.epochs, prog.best_epoch, wall, run.run_dir)


def _resume_command(run: _Run) -> str:
    """The command that continues this run: the same files, data and device (the recipe is in the state)."""
    argv = ["edgeflow", "train", run.name, "--data", run.data, "--resume"]
    if run.data_dir is not None:
        argv += ["--data-dir", str(run.data_dir)]
    if run.out != default_checkpoint(run.name):
        argv += ["--out", str(run.out)]
    if run.run_dir != default_run_dir(run.out):
        argv += ["--run-dir", str(run.run_dir)]
    if run.dev.type != "cpu":
        argv += ["--device", str(run.dev)]
    if run.contract is not None:
        c = run.contract
        argv += ["--input-shape", f"{c.in_chans},{c.img_size},{c.img_size}", "--mean", ",".join(map(str, c.mean)),
                 "--std", ",".join(map(str, c.std)), "--classes", ",".join(c.classes)]
    return shlex.join(argv)
