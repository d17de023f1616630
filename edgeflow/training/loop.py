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
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from edgeflow.cards import ModelCard, get_card
from edgeflow.checkpoint import default_checkpoint, load_weights, round_to_half, save_checkpoint
from edgeflow.files import atomic_write
from edgeflow.data import load_dataset, preprocess
from edgeflow.errors import EdgeflowError, Interrupted
from edgeflow.progress import progress_bar
from edgeflow.registry import create_model
from edgeflow.training import distributed as ddp
from edgeflow.training.augment import augment_batch
from edgeflow.training.losses import self_distill_loss, teacher_student_loss
from edgeflow.training.recipe import TrainConfig, resolve_augment
from edgeflow.training.state import STATE_FILE, load_state, save_state


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


class AllExits(nn.Module):
    """What the loop trains: every exit's logits (and features), so DDP wraps a single forward."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.multi_exit = hasattr(net, "forward_with_features")

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        if self.multi_exit:
            return self.net.forward_with_features(x)
        return [self.net(x)], []


@dataclass
class _Split:
    x: torch.Tensor
    y: torch.Tensor


@dataclass
class _Progress:
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


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    """Top-1 accuracy (fraction) of ``model`` on preprocessed NCHW inputs."""
    return exit_accuracies(AllExits(model), torch.from_numpy(x), torch.from_numpy(y), batch_size)[-1]


def exit_accuracies(view: AllExits, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> list[float]:
    """Top-1 accuracy of every exit (one entry for ordinary nets), run on the device ``view`` is on."""
    view.eval()
    device = next(view.parameters()).device
    correct: np.ndarray | None = None
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            logits, _ = view(x[i:i + batch_size].to(device).contiguous(memory_format=torch.channels_last))
            labels = y[i:i + batch_size].to(device)
            hits = np.array([int((out.argmax(1) == labels).sum()) for out in logits])
            correct = hits if correct is None else correct + hits
    assert correct is not None
    return [float(c) / len(x) for c in correct]


def lr_at(step: int, total: int, warmup: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 0 (or constant)."""
    if step < warmup:
        return config.lr * (step + 1) / warmup
    if config.schedule == "constant":
        return config.lr
    return 0.5 * config.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def default_run_dir(out: Path) -> Path:
    """``models/NAME/weights.pt`` → ``models/NAME/weights_run/`` (state, metrics.jsonl, curve.png)."""
    return out.parent / f"{out.stem}_run"


def _check_writable(path: Path) -> None:
    folder = path if path.is_dir() else path.parent
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise EdgeflowError(f"cannot write to {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise EdgeflowError(f"cannot write to {folder}: permission denied; pass --out/--run-dir elsewhere")


def _load_data(card: ModelCard, data: str, data_dir: Path | None, config: TrainConfig) -> dict[str, Any]:
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

    def split(images: np.ndarray, labels: np.ndarray) -> _Split:
        return _Split(torch.from_numpy(preprocess(images, card.mean, card.std)), torch.from_numpy(labels))

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


def _device_name(dev: torch.device) -> str:
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"


def _load_teacher(config: TrainConfig, card: ModelCard) -> nn.Module | None:
    if not config.teacher:
        return None
    teacher_card = get_card(config.teacher)
    if teacher_card.input_shape != card.input_shape or len(teacher_card.classes) != len(card.classes):
        raise EdgeflowError(f"teacher {config.teacher} takes {teacher_card.input_shape[1:]} with "
                            f"{len(teacher_card.classes)} classes; {card.name} takes {card.input_shape[1:]} "
                            f"with {len(card.classes)}")
    teacher = create_model(config.teacher, num_classes=len(card.classes), in_chans=card.in_chans,
                           img_size=card.img_size)
    path = Path(config.teacher_checkpoint) if config.teacher_checkpoint else default_checkpoint(config.teacher)
    load_weights(teacher, path, config.teacher)
    return teacher.eval().to(memory_format=torch.channels_last)


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


def _resume_command(name: str, data: str, data_dir: Path | None, out: Path, run_dir: Path,
                    dev: torch.device) -> str:
    """The command that continues this run: the same files, data and device (the recipe is in the state)."""
    argv = ["edgeflow", "train", name, "--data", data, "--resume"]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if out != default_checkpoint(name):
        argv += ["--out", str(out)]
    if run_dir != default_run_dir(out):
        argv += ["--run-dir", str(run_dir)]
    if dev.type != "cpu":
        argv += ["--device", str(dev)]
    return shlex.join(argv)


def _command_line() -> str:
    prog = Path(sys.argv[0]).name
    if prog == "edgeflow":
        return "edgeflow " + shlex.join(sys.argv[1:])
    if prog == "train.py" or "edgeflow.train" in sys.argv[0]:
        return "python -m edgeflow.train " + shlex.join(sys.argv[1:])
    return ""


def train(name: str, out: Path, *, data: str = "fashion-mnist", data_dir: Path | None = None,
          config: TrainConfig = TrainConfig(), show_progress: bool = True, run_dir: Path | None = None,
          resume: bool = False, init_checkpoint: Path | None = None, half_weights: bool = False,
          device: str = "cpu") -> TrainResult:
    """Train ``name`` on ``data``: best weights to ``out``, state/metrics/curve to ``run_dir``.

    ``half_weights`` stores the final checkpoint in float16; its test accuracy is measured on those weights.
    ``device`` is ``cpu`` or ``cuda``; files are written the same either way and load on any machine.
    """
    world = ddp.join_world()
    try:
        return _train(name, out, data, data_dir, config, show_progress, run_dir or default_run_dir(out),
                      resume, init_checkpoint, half_weights, world, resolve_device(device, world))
    finally:
        ddp.leave_world(world)


def _train(name: str, out: Path, data: str, data_dir: Path | None, config: TrainConfig, show_progress: bool,
           run_dir: Path, resume: bool, init_checkpoint: Path | None, half_weights: bool,
           world: ddp.World, dev: torch.device) -> TrainResult:
    card = get_card(name)
    state = load_state(run_dir / STATE_FILE, name, data) if resume else None
    if state is not None:
        config = TrainConfig(**state["config"])  # a resumed run keeps its recipe
    if config.batch_size % world.size:
        raise EdgeflowError(f"batch size {config.batch_size} does not split evenly over {world.size} processes")
    _check_writable(out)
    _check_writable(run_dir)
    splits = _load_data(card, data, data_dir, config)
    if state is not None and state["train_sha256"] != splits["train_sha256"]:
        raise EdgeflowError(f"training state in {run_dir} was made with other training images; start afresh "
                            "without --resume")
    teacher = _load_teacher(config, card)
    if teacher is not None:
        teacher = teacher.to(dev)

    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    net = create_model(name, num_classes=len(card.classes), in_chans=card.in_chans, img_size=card.img_size)
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
    params = [p for p in view.parameters() if p.requires_grad]
    if config.optimizer == "adamw":
        opt: torch.optim.Optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                              weight_decay=config.weight_decay)
    prog = _Progress()
    if state is not None:
        net.load_state_dict(state["weights"])
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if dev.type == "cuda" and "cuda_rng" in state:  # dropout on the GPU draws from its own generator
            torch.cuda.set_rng_state(state["cuda_rng"], dev)
        prog = _Progress(**state["progress"])

    train_split, val_split = splits["train"], splits["val"]
    augment = resolve_augment(config.augment, data)
    sampler = ddp.shard_sampler(len(train_split.x), world, config.seed)
    local_batch = config.batch_size // world.size
    steps_per_epoch = math.ceil(len(sampler) / local_batch)
    total, warmup = steps_per_epoch * config.epochs, int(steps_per_epoch * config.warmup_epochs)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter() - prog.elapsed_s
    first_shard: list[int] = []

    def save_run_state() -> None:
        prog.elapsed_s = time.perf_counter() - started
        save_state(run_dir / STATE_FILE, {
            "model": name, "dataset": data, "train_sha256": splits["train_sha256"], "config": config.as_dict(),
            "weights": net.state_dict(), "optimizer": opt.state_dict(), "torch_rng": torch.get_rng_state(),
            "progress": dict(prog.__dict__),
            **({"cuda_rng": torch.cuda.get_rng_state(dev)} if dev.type == "cuda" else {})})

    def save_weights(meta: dict[str, Any]) -> None:
        weights = net if qat_handle is None else qat_handle.plain_copy()
        save_checkpoint(out, name, weights, {**_meta(), **meta})

    def _meta() -> dict[str, Any]:
        return {"dataset": data, "train_samples": len(train_split.x),
                "val_samples": 0 if val_split is None else len(val_split.x), "epochs": config.epochs,
                "config": config.as_dict(), "augment": augment, "world_size": world.size,
                "torch": str(torch.__version__), "device": _device_name(dev), "command": _command_line()}

    interactive = world.is_main and show_progress
    with progress_bar(interactive) as bar, _stop_on_sigint(not world.distributed) as flag:
        task = bar.add_task(f"train {name}", total=total, completed=prog.epoch * steps_per_epoch + prog.batches_done)
        while prog.epoch < config.epochs:
            epoch = prog.epoch
            sampler.set_epoch(epoch)
            order = torch.tensor(list(sampler), dtype=torch.long)
            if epoch == 0:
                first_shard = order.tolist()
            model.train()
            for b in range(prog.batches_done, steps_per_epoch):
                idx = order[b * local_batch:(b + 1) * local_batch]
                gen = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch * 10_007 + b)
                xb = augment_batch(train_split.x[idx], augment, gen).to(dev).contiguous(
                    memory_format=torch.channels_last)
                yb = train_split.y[idx].to(dev)
                step = epoch * steps_per_epoch + b
                for g in opt.param_groups:
                    g["lr"] = lr_at(step, total, warmup, config)
                logits, features = model(xb)
                if view.multi_exit:
                    loss = self_distill_loss(logits, features, yb, alpha=config.kd_weight,
                                             temperature=config.temperature, hint_weight=config.hint_weight,
                                             label_smoothing=config.label_smoothing)
                elif teacher is not None:
                    with torch.no_grad():
                        soft = teacher(xb)
                    loss = teacher_student_loss(logits[0], soft, yb, alpha=config.kd_weight,
                                                temperature=config.temperature,
                                                label_smoothing=config.label_smoothing)
                else:
                    loss = F.cross_entropy(logits[0], yb, label_smoothing=config.label_smoothing)
                if not torch.isfinite(loss):
                    raise EdgeflowError(f"training diverged (loss {loss.item()}) at epoch {epoch + 1}; "
                                        f"lower --lr (now {config.lr})")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                prog.batches_done = b + 1
                prog.loss_sum += loss.item() * len(idx)
                prog.correct += int((logits[-1].argmax(1) == yb).sum())
                prog.seen += len(idx)
                bar.update(task, advance=1, description=f"train {name} epoch {epoch + 1}/{config.epochs} "
                           f"loss {prog.loss_sum / prog.seen:.3f} acc {100 * prog.correct / prog.seen:.1f} %")
                if flag["stop"] and b + 1 < steps_per_epoch:
                    if world.is_main:
                        save_run_state()
                    raise TrainingInterrupted(
                        f"stopped at epoch {epoch + 1}, batch {b + 1}/{steps_per_epoch}; state saved in {run_dir}. "
                        f"Resume with: {_resume_command(name, data, data_dir, out, run_dir, dev)}")
            ddp.sync_buffers(view, world)
            _end_epoch(prog, view, val_split if world.is_main else None, config, opt, started)
            if world.is_main:
                record = prog.history[-1]
                if val_split is None or record["val_accuracy"] > prog.best_val:
                    prog.best_val, prog.best_epoch = record.get("val_accuracy", 0.0), epoch + 1
                    save_weights({"best_epoch": epoch + 1, "val_accuracy": record.get("val_accuracy")})
                save_run_state()
                write_metrics(run_dir, prog.history, name)
                if not bar.console.is_terminal or not interactive:  # logs and CI get one line per epoch
                    if show_progress:
                        bar.console.print(_epoch_line(record, config.epochs))
            ddp.barrier(world)
            if flag["stop"]:
                raise TrainingInterrupted(
                    f"stopped after epoch {epoch + 1}; state saved in {run_dir}. Resume with: "
                    f"{_resume_command(name, data, data_dir, out, run_dir, dev)}")

    replicas = ddp.replica_report(world, net, first_shard)
    if not world.is_main:
        return TrainResult(out, float("nan"), [], config.epochs, prog.best_epoch, 0.0, run_dir)
    # the best epoch's weights (already in ``out``) get the test accuracy added to their metadata
    best = create_model(name, num_classes=len(card.classes), in_chans=card.in_chans, img_size=card.img_size)
    meta = load_weights(best, out, name)
    if half_weights:
        round_to_half(best)
    test = splits["test"]
    accs = exit_accuracies(AllExits(best).to(dev, memory_format=torch.channels_last), test.x, test.y)
    wall = time.perf_counter() - started
    meta.update({"test_accuracy": accs[-1], "test_exit_accuracies": accs, "test_samples": len(test.x),
                 "wall_s": round(wall, 1)})
    save_checkpoint(out, name, best, meta, half=half_weights)
    result = {"model": name, "checkpoint": os.path.relpath(out, run_dir),  # relative: no machine paths
              "test_accuracy": accs[-1], "test_exit_accuracies": accs,
              "best_epoch": prog.best_epoch, "epochs": config.epochs, "wall_s": round(wall, 1),
              "replicas": replicas}
    atomic_write(run_dir / "result.json", lambda tmp: tmp.write_text(json.dumps(result, indent=2) + "\n"))
    return TrainResult(out, accs[-1], accs, config.epochs, prog.best_epoch, wall, run_dir)


def _end_epoch(prog: _Progress, view: AllExits, val: _Split | None, config: TrainConfig,
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


def _epoch_line(record: dict[str, Any], epochs: int) -> str:
    line = (f"epoch {record['epoch']}/{epochs} loss {record['train_loss']:.3f} "
            f"train {100 * record['train_accuracy']:.2f} %")
    if "val_accuracy" in record:
        line += f" val {100 * record['val_accuracy']:.2f} %"
    if "val_exit_accuracies" in record:
        line += " (exits " + " / ".join(f"{100 * a:.1f}" for a in record["val_exit_accuracies"]) + ")"
    return line + f" {record['wall_s']:.0f} s"


def write_metrics(run_dir: Path, history: list[dict[str, Any]], name: str) -> None:
    """``metrics.jsonl`` (one JSON object per epoch) and ``curve.png``, both rewritten whole each epoch."""
    from edgeflow.plots import training_curve

    text = "".join(json.dumps(r) + "\n" for r in history)
    atomic_write(run_dir / "metrics.jsonl", lambda tmp: tmp.write_text(text))
    training_curve(history, run_dir / "curve.png", f"{name} training")
