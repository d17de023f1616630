"""The input contract of the net a command is given: a zoo net's card, or, for a user's own net, one built
from ``--card FILE`` or from ``--input-shape``/``--mean``/``--std``/``--classes`` (class names default to
the data folder's)."""

from __future__ import annotations

from pathlib import Path

from edgeflow.errors import EdgeflowError
from edgeflow.zoo.cards import ModelCard, card_from_toml, user_card
from edgeflow.zoo.registry import check_model_name, list_models
from edgeflow.zoo.sources import parse_source

CONTRACT_FLAGS = "--card/--input-shape/--mean/--std/--classes"


def contract_for(spec: str, *, card_file: Path | None = None, input_shape: str | None = None,
                 mean: str | None = None, std: str | None = None, classes: str | None = None,
                 data: str = "") -> ModelCard | None:
    """None for a zoo net (its card applies); the contract of a user's net otherwise. Checks the spec."""
    if ":" not in spec and not spec.endswith((".pt2", ".onnx")):
        check_model_name(spec)  # a plain name must be a zoo net: say which ones come close
    src = parse_source(spec, list_models())
    given = [v for v in (card_file, input_shape, mean, std, classes) if v is not None]
    if src.kind == "zoo":
        if given:
            raise EdgeflowError(f"{spec} is a zoo net: its card fixes the input contract; {CONTRACT_FLAGS} are "
                                "for your own nets")
        return None
    if src.kind != "onnx":
        return user_contract(src.name, spec, card_file=card_file, input_shape=input_shape, mean=mean, std=std,
                             classes=classes, data=data)
    from edgeflow.zoo.onnx_source import check_against_contract, read_signature

    sig = read_signature(src.path)  # the file fixes the input shape; flags or a card may only agree with it
    card = user_contract(src.name, spec, card_file=card_file, input_shape=input_shape or (
        None if card_file else sig.input_shape), mean=mean, std=std, classes=classes, data=data)
    check_against_contract(sig, card.in_chans, card.img_size, len(card.classes), src.path.name)
    return card


def user_contract(name: str, what: str, *, card_file: Path | None = None, input_shape: str | None = None,
                  mean: str | None = None, std: str | None = None, classes: str | None = None,
                  data: str = "") -> ModelCard:
    """The contract of a user's net ``name`` (``what`` names it in errors) from a card file or from flags."""
    if card_file is not None:
        if input_shape or mean or std or classes:
            raise EdgeflowError("--card gives the whole contract: drop --input-shape/--mean/--std/--classes")
        return card_from_toml(card_file, name, user=True)
    if input_shape is None:
        raise EdgeflowError(f"{what}: give its input contract: --input-shape C,H,W (with --mean, --std, "
                            "--classes) or --card FILE")
    names = tuple(c.strip() for c in classes.split(",")) if classes else _folder_classes(data, what)
    return user_card(name, input_shape=input_shape, classes=names, mean=mean, std=std)


def _folder_classes(data: str, spec: str) -> tuple[str, ...]:
    """The class names the data itself gives: an ImageFolder's class folders, or a named dataset's labels."""
    from edgeflow.data.folder import class_names
    from edgeflow.data.sources import FASHION_CLASSES

    if data in ("fashion-mnist", "fashion-mnist-embedded"):
        return FASHION_CLASSES
    if data in ("mnist", "svhn"):
        return tuple(str(i) for i in range(10))
    root = Path(data).expanduser()
    if not root.is_dir():
        raise EdgeflowError(f"{spec}: pass --classes NAME,NAME,... (or --data with an ImageFolder, whose class "
                            "folders name them)")
    return class_names(root, "train")
