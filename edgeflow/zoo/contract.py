"""The input contract of the net a command is given: a zoo net's card, or, for a user's own net, one built
from ``--card FILE`` or from ``--input-shape``/``--mean``/``--std``/``--classes`` (class names default to
the data folder's)."""

from __future__ import annotations

from pathlib import Path

from edgeflow.errors import EdgeflowError
from edgeflow.zoo.cards import ModelCard, card_from_record, card_from_toml, contract_record, get_card, user_card
from edgeflow.zoo.registry import check_model_name, list_models
from edgeflow.zoo.sources import parse_source

CONTRACT_FLAGS = "--card/--input-shape/--mean/--std/--classes"


def contract_for(spec: str, *, card_file: Path | None = None, input_shape: str | None = None,
                 mean: str | None = None, std: str | None = None, classes: str | None = None,
                 data: str = "", checkpoint: Path | None = None) -> ModelCard | None:
    """None for a zoo net (its card applies) unless ``checkpoint`` was trained for another contract
    (``edgeflow train NAME --input-shape ...`` records it); the contract of a user's net otherwise."""
    if ":" not in spec and not spec.endswith((".pt2", ".onnx")):
        check_model_name(spec)  # a plain name must be a zoo net: say which ones come close
    src = parse_source(spec, list_models())
    given = [v for v in (card_file, input_shape, mean, std, classes) if v is not None]
    if src.kind == "zoo":
        if given:
            raise EdgeflowError(f"{spec} is a zoo net: its card fixes the input contract ({CONTRACT_FLAGS} are "
                                f"for your own nets); a checkpoint from `edgeflow train {spec} --input-shape ...` "
                                "brings its own")
        return _trained_contract(spec, checkpoint) if checkpoint is not None else None
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


def zoo_contract(name: str, *, input_shape: str | None = None, mean: str | None = None, std: str | None = None,
                 classes: str | None = None, data: str = "") -> ModelCard | None:
    """For ``edgeflow train NAME`` on a user's images: the zoo card with the input contract of the flags and
    the data (shape, mean and std default to the card's, classes to the folder's); None when the card's own
    contract applies (a named dataset and no flags)."""
    card = get_card(name)
    if all(v is None for v in (input_shape, mean, std, classes)) and not Path(data).expanduser().is_dir():
        return None
    shape = input_shape or f"{card.in_chans},{card.img_size},{card.img_size}"
    user = user_card(name, input_shape=shape, classes=tuple(c.strip() for c in classes.split(",")) if classes
                     else _folder_classes(data, name), mean=mean, std=std)
    record = contract_record(user)
    for key, given in (("mean", mean), ("std", std)):
        if given is None:  # the card's normalisation, averaged over channels where their number changes
            values = getattr(card, key)
            record[key] = list(values) if len(values) == user.in_chans else [sum(values) / len(values)] * user.in_chans
    return card_from_record(card, record, "flags")


def _trained_contract(name: str, checkpoint: Path) -> ModelCard | None:
    from edgeflow.zoo.checkpoint import read_checkpoint

    record = read_checkpoint(Path(checkpoint), name).get("meta", {}).get("input_contract")
    return card_from_record(get_card(name), record, str(checkpoint)) if record else None
