"""Model cards: the hand-written ``models/<name>/card.toml`` as a typed value."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeflow.errors import EdgeflowError
from edgeflow.paths import model_dir
from edgeflow.zoo.registry import check_model_name

if TYPE_CHECKING:
    from edgeflow.data import ImageSet

DEFAULT_TOLERANCES = {
    "fp32_max_abs_diff": 1e-4,  # every fp32 runtime vs PyTorch: max |logit diff| ≤ abs + rel · max |logit|
    "fp32_max_rel_diff": 1e-6,
    "fp32_min_agreement": 1.0,
    "fp16_min_agreement": 0.995,
    "dynamic_max_accuracy_drop_pp": 1.0,
    "int8_max_accuracy_drop_pp": 1.0,
}


@dataclass(frozen=True)
class ModelCard:
    """What a net expects as input, what its paper claims, and how close runtimes must stay."""

    name: str
    family: str
    paper: str
    description: str
    in_chans: int
    img_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    dataset: str
    classes: tuple[str, ...]
    tolerances: dict[str, float]
    claims: dict[str, Any] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)  # the recipe (keys of training.recipe.TrainConfig)
    trained: dict[str, Any] = field(default_factory=dict)  # how the committed weights were made
    # why a net has no committed weights, the command that makes them, and what an uncommitted run measured
    not_committed: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """NCHW shape of one input sample."""
        return (1, self.in_chans, self.img_size, self.img_size)

    def checked(self, where: str) -> "ModelCard":
        """Raise EdgeflowError when the contract itself is impossible (``where`` names its origin)."""
        problems = [
            (self.in_chans in (1, 3), f"in_chans must be 1 or 3, got {self.in_chans}"),
            (8 <= self.img_size <= 4096, f"img_size must be 8-4096, got {self.img_size}"),
            (len(self.mean) == len(self.std) == self.in_chans, "mean and std need one value per channel"),
            (all(s > 0 and math.isfinite(s) for s in self.std), "std values must be positive"),
            (all(math.isfinite(m) for m in self.mean), "mean values must be finite"),
            (len(self.classes) >= 2, "at least 2 classes are needed"),
            (len(set(self.classes)) == len(self.classes), "class names must be unique"),
        ]
        for ok, message in problems:
            if not ok:
                raise EdgeflowError(f"input contract ({where}): {message}")
        return self

    def check_fits(self, ds: "ImageSet") -> None:
        """Raise EdgeflowError unless ``ds`` has this net's image shape and class count."""
        if len(ds) == 0:
            raise EdgeflowError(f"dataset {ds.name} is empty")
        _, c, h, w = ds.images.shape
        if (c, h, w) != self.input_shape[1:] or len(ds.classes) != len(self.classes):
            raise EdgeflowError(
                f"dataset {ds.name} has {c}x{h}x{w} images and {len(ds.classes)} classes, but {self.name} "
                f"expects {self.in_chans}x{self.img_size}x{self.img_size} and {len(self.classes)} classes")
        if self.family == "user" and tuple(ds.classes) != tuple(self.classes):
            raise EdgeflowError(f"the classes of {ds.name} ({', '.join(ds.classes)}) are not the net's "
                                f"({', '.join(self.classes)}); pass --classes in the data's order, or fix the data")


def get_card(name: str) -> ModelCard:
    """Load and validate ``models/<name>/card.toml``."""
    check_model_name(name)
    return card_from_toml(model_dir(name) / "card.toml", name)


def card_from_toml(path: Path, name: str, *, user: bool = False) -> ModelCard:
    """A card file: a zoo card, or (``user``) one a user wrote for their own net, where only ``[input]``
    (in_chans, img_size, mean, std, classes) is required."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except FileNotFoundError as e:
        raise EdgeflowError(f"model {name!r} has no card at {path}" if not user else f"no card file {path}") from e
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise EdgeflowError(f"card {path} is not valid TOML: {e}") from e
    try:
        inp = raw["input"]
        return ModelCard(
            name=name,
            family=raw.get("family", "user") if user else raw["family"],
            paper=raw.get("paper", "") if user else raw["paper"],
            description=raw.get("description", ""),
            in_chans=int(inp["in_chans"]),
            img_size=int(inp["img_size"]),
            mean=tuple(float(v) for v in inp["mean"]),
            std=tuple(float(v) for v in inp["std"]),
            dataset=inp.get("dataset", "") if user else inp["dataset"],
            classes=tuple(str(c) for c in inp["classes"]),
            tolerances={**DEFAULT_TOLERANCES, **raw.get("tolerances", {})},
            claims=raw.get("claims", {}),
            measured=raw.get("measured", {}),
            train=raw.get("train", {}),
            trained=raw.get("trained", {}),
            not_committed=raw.get("not_committed", {}),
        ).checked(str(path))
    except (KeyError, TypeError, ValueError) as e:
        raise EdgeflowError(f"card {path} is missing or has a bad field: {e}") from e


def user_card(name: str, *, input_shape: str, classes: tuple[str, ...], mean: str | None = None,
              std: str | None = None) -> ModelCard:
    """The input contract of a user's own net from flags: ``--input-shape C,H,W`` (H = W), ``--mean``/``--std``
    (one value per channel, or one for all; default 0 and 1: pixels scaled to [0, 1] only), class names."""
    try:
        c, h, w = (int(v) for v in input_shape.split(","))
    except ValueError as e:
        raise EdgeflowError(f"--input-shape must be C,H,W (e.g. 3,224,224), got {input_shape!r}") from e
    if h != w:
        raise EdgeflowError(f"--input-shape {input_shape}: only square inputs (H = W) are supported")
    return ModelCard(name=name, family="user", paper="", description="", in_chans=c, img_size=h,
                     mean=_per_channel(mean, c, 0.0, "--mean"), std=_per_channel(std, c, 1.0, "--std"),
                     dataset="", classes=tuple(classes), tolerances=dict(DEFAULT_TOLERANCES)).checked("flags")


def contract_record(card: ModelCard) -> dict[str, Any]:
    """The input contract as a checkpoint records it (read back by ``card_from_record``)."""
    return {"in_chans": card.in_chans, "img_size": card.img_size, "mean": list(card.mean), "std": list(card.std),
            "classes": list(card.classes)}


def card_from_record(base: ModelCard, record: dict[str, Any], where: str) -> ModelCard:
    """``base`` (a zoo card) with the input contract ``record`` (see ``contract_record``), named
    NAME-CxHxW so its exports never take the place of the zoo net's own."""
    from dataclasses import replace

    try:
        c, size = int(record["in_chans"]), int(record["img_size"])
        return replace(base, name=f"{base.name}-{c}x{size}x{size}", family="user", in_chans=c, img_size=size,
                       mean=tuple(map(float, record["mean"])), std=tuple(map(float, record["std"])),
                       classes=tuple(map(str, record["classes"])), claims={}, measured={}, trained={},
                       not_committed={}).checked(where)
    except (KeyError, TypeError, ValueError) as e:
        raise EdgeflowError(f"{where}: its input contract is incomplete ({e})") from e


def _per_channel(text: str | None, channels: int, default: float, flag: str) -> tuple[float, ...]:
    if text is None:
        return (default,) * channels
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as e:
        raise EdgeflowError(f"{flag} must be comma-separated numbers, got {text!r}") from e
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise EdgeflowError(f"{flag} has {len(values)} values for {channels} channels")
    return values
