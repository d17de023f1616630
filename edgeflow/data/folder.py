"""ImageFolder reader: ``root/[train|test/]<class>/<image>``, any size and colour, brought to the input
contract the way torchvision's classification presets do: resize the shorter side to the contract's size,
then center-crop the square (the aspect ratio is kept, never squashed). Grey↔RGB only when the contract
asks; every conversion is counted and reported in one line (``ImageSet.notes``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from edgeflow.data.imageset import ImageSet
from edgeflow.errors import EdgeflowError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
PREPROCESSING = "resize the shorter side to the input size (bilinear), center-crop the square"


def split_folder(root: Path, split: str) -> Path:
    return root / split if (root / split).is_dir() else root


def class_names(root: Path, split: str) -> tuple[str, ...]:
    """The class folder names of ``root/split`` (or ``root``), sorted: the label order."""
    base = split_folder(root, split)
    classes = sorted(d.name for d in base.iterdir() if d.is_dir() and d.name not in ("train", "test"))
    if not classes:
        raise EdgeflowError(f"{base} has no class folders (expected {base}/<class>/<image files>)")
    return tuple(classes)


def load_image_folder(root: Path, split: str, *, img_size: int, in_chans: int) -> ImageSet:
    """Read every image under ``root/split`` (or ``root`` when it has no split folders), decoded once."""
    from edgeflow.progress import progress_bar

    base = split_folder(root, split)
    classes = class_names(root, split)
    files = _interleaved([[(label, f) for f in sorted((base / cls).iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
                          for label, cls in enumerate(classes)])
    if not files:
        raise EdgeflowError(f"no images found under {base}")
    changes: Counter[str] = Counter()
    images = []
    with progress_bar(len(files) > 500) as bar:
        for _, f in bar.track(files, description=f"read {base}"):
            images.append(_read(f, img_size, in_chans, changes))
    labels = np.asarray([label for label, _ in files], np.int64)
    notes = tuple(f"{base}: {n} of {len(files)} images {what}" for what, n in sorted(changes.items()))
    return ImageSet(np.stack(images), labels, classes, str(root), notes)


def load_calibration_folder(root: Path, *, img_size: int, in_chans: int) -> ImageSet:
    """Calibration images for int8 (``--calib DIR``): an ImageFolder (its train split when it has one) or a
    flat folder of images; labels play no part in calibration, so a flat folder is one class."""
    if not root.is_dir():
        raise EdgeflowError(f"--calib {root}: no such folder")
    if any(d.is_dir() for d in split_folder(root, "train").iterdir()):
        return load_image_folder(root, "train", img_size=img_size, in_chans=in_chans)
    files = sorted(f for f in root.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise EdgeflowError(f"--calib {root}: no images found (expected image files or <class>/<image> folders)")
    changes: Counter[str] = Counter()
    images = np.stack([_read(f, img_size, in_chans, changes) for f in files])
    notes = tuple(f"{root}: {n} of {len(files)} images {what}" for what, n in sorted(changes.items()))
    return ImageSet(images, np.zeros(len(files), np.int64), ("unlabelled",), str(root), notes)


def _interleaved(per_class: list[list]) -> list:
    """Class by class in turn (a, b, c, a, b, c, ...): the first N images — what --calib-samples,
    --parity-samples and bench --samples take — then cover every class, not just the first ones."""
    longest = max((len(files) for files in per_class), default=0)
    return [files[i] for i in range(longest) for files in per_class if i < len(files)]


def _read(f: Path, size: int, in_chans: int, changes: Counter) -> np.ndarray:
    from PIL import Image

    mode = "L" if in_chans == 1 else "RGB"
    try:
        with Image.open(f) as im:
            if im.mode != mode:
                changes[f"converted from {_colour(im.mode)} to {_colour(mode)}"] += 1
            im = im.convert(mode)
            if im.size != (size, size):
                changes[f"resized/cropped to {size}x{size}"] += 1
                im = _resize_center_crop(im, size)
            arr = np.asarray(im, np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as e:  # unreadable, truncated, not an image
        first = str(e).splitlines()[0] if str(e) else "unreadable"
        raise EdgeflowError(f"cannot read image {f} ({type(e).__name__}: {first}); fix or remove it") from e
    return arr[None] if in_chans == 1 else arr.transpose(2, 0, 1)


def _resize_center_crop(im, size: int):
    from PIL import Image

    w, h = im.size
    scale = size / min(w, h)
    im = im.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
    w, h = im.size
    left, top = (w - size) // 2, (h - size) // 2
    return im.crop((left, top, left + size, top + size))


def _colour(mode: str) -> str:
    return {"L": "grey", "RGB": "RGB"}.get(mode, mode)
