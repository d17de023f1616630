"""Model cards: the hand-written ``models/<name>/card.toml`` as a typed value."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
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

    def check_fits(self, ds: "ImageSet") -> None:
        """Raise EdgeflowError unless ``ds`` has this net's image shape and class count."""
        if len(ds) == 0:
            raise EdgeflowError(f"dataset {ds.name} is empty")
        _, c, h, w = ds.images.shape
        if (c, h, w) != self.input_shape[1:] or len(ds.classes) != len(self.classes):
            raise EdgeflowError(
                f"dataset {ds.name} has {c}x{h}x{w} images and {len(ds.classes)} classes, but {self.name} "
                f"expects {self.in_chans}x{self.img_size}x{self.img_size} and {len(self.classes)} classes")


def get_card(name: str) -> ModelCard:
    """Load and validate ``models/<name>/card.toml``."""
    check_model_name(name)
    path = model_dir(name) / "card.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as e:
        raise EdgeflowError(f"model {name!r} has no card at {path}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise EdgeflowError(f"card {path} is not valid TOML: {e}") from e
    try:
        inp = raw["input"]
        return ModelCard(
            name=name,
            family=raw["family"],
            paper=raw["paper"],
            description=raw.get("description", ""),
            in_chans=int(inp["in_chans"]),
            img_size=int(inp["img_size"]),
            mean=tuple(float(v) for v in inp["mean"]),
            std=tuple(float(v) for v in inp["std"]),
            dataset=inp["dataset"],
            classes=tuple(inp["classes"]),
            tolerances={**DEFAULT_TOLERANCES, **raw.get("tolerances", {})},
            claims=raw.get("claims", {}),
            measured=raw.get("measured", {}),
            train=raw.get("train", {}),
            trained=raw.get("trained", {}),
            not_committed=raw.get("not_committed", {}),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise EdgeflowError(f"card {path} is missing or has a bad field: {e}") from e
