"""A training recipe: the card's ``[train]`` section, overridden by command-line flags."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from edgeflow.errors import EdgeflowError

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "constant")
AUGMENTS = ("auto", "none", "crop", "flip", "crop+flip")


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a run. Field names are the keys of a card's ``[train]`` section."""

    epochs: int = 15
    batch_size: int = 128  # global batch: split evenly across processes under torchrun
    optimizer: str = "sgd"  # sgd (momentum, nesterov) | adamw
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"  # cosine after linear warm-up | constant after warm-up
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    augment: str = "auto"  # auto: none for (Fashion-)MNIST, crop+flip for CIFAR, crop for SVHN
    val_samples: int = 5000  # held out of the training split to pick the best epoch; 0 = keep the last
    seed: int = 0
    max_train_samples: int | None = None
    max_test_samples: int | None = None  # a quick check; the card's accuracy is measured on the whole test set
    # knowledge distillation from another trained net (--teacher)
    teacher: str | None = None
    teacher_checkpoint: str | None = None
    # distillation weights, used by --teacher and by multi-exit (self-distillation) nets
    kd_weight: float = 0.5  # alpha: (1 - alpha) * CE + alpha * T^2 * KL(student || teacher)
    temperature: float = 3.0
    hint_weight: float = 0.1  # self-distillation only: L2 between a shallow exit's features and the deepest's
    qat: bool = False  # fine-tune with fake quantization (needs a starting checkpoint)

    def __post_init__(self) -> None:
        numbers = ("lr", "momentum", "weight_decay", "warmup_epochs", "label_smoothing", "kd_weight",
                   "temperature", "hint_weight")
        for key in numbers:  # inf passes "> 0"; NaN fails every comparison but say so plainly
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise EdgeflowError(f"bad training recipe: {key} must be a finite number, got {value!r}")
        checks = [
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.lr > 0, "lr must be > 0"),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (self.warmup_epochs >= 0, "warmup_epochs must be >= 0"),
            (self.hint_weight >= 0, "hint_weight must be >= 0"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.augment in AUGMENTS, f"augment must be one of {', '.join(AUGMENTS)}"),
            (0 <= self.kd_weight <= 1, "kd_weight must be in [0, 1]"),
            (self.temperature > 0, "temperature must be > 0"),
            (self.val_samples >= 0, "val_samples must be >= 0"),
            (self.max_train_samples is None or self.max_train_samples >= 1, "max_train_samples must be >= 1"),
            (self.max_test_samples is None or self.max_test_samples >= 1, "max_test_samples must be >= 1"),
            (0 <= self.label_smoothing < 1, "label_smoothing must be in [0, 1)"),
        ]
        for ok, message in checks:
            if not ok:
                raise EdgeflowError(f"bad training recipe: {message}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def recipe_from_card(train_section: dict[str, Any], overrides: dict[str, Any] | None = None) -> TrainConfig:
    """The card's recipe with ``overrides`` (flags the user passed; None values are ignored) applied."""
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(train_section) - known)
    if unknown:
        raise EdgeflowError(f"card [train] has unknown key(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(known))}")
    try:
        config = TrainConfig(**train_section)
    except TypeError as e:
        raise EdgeflowError(f"card [train] is malformed: {e}") from e
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return replace(config, **given)


def resolve_augment(augment: str, dataset: str) -> str:
    """``auto`` → what suits the dataset: nothing for digits/clothes, crop+flip for natural images."""
    if augment != "auto":
        return augment
    name = dataset.lower()
    if "mnist" in name:
        return "none"
    if name == "svhn":
        return "crop"  # flipped digits are other digits
    return "crop+flip"
