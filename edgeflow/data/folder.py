"""ImageFolder reader: ``root/[train|test/]<class>/<image>`` resized to a square, kept as uint8."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeflow.data.imageset import ImageSet
from edgeflow.errors import EdgeflowError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}


def load_image_folder(root: Path, split: str, *, img_size: int, in_chans: int) -> ImageSet:
    """Read every image under ``root/split`` (or ``root`` when it has no split folders)."""
    from PIL import Image

    base = root / split if (root / split).is_dir() else root
    classes = sorted(d.name for d in base.iterdir() if d.is_dir() and d.name not in ("train", "test"))
    if not classes:
        raise EdgeflowError(f"{base} has no class folders (expected {base}/<class>/<image files>)")
    images, labels = [], []
    mode = "L" if in_chans == 1 else "RGB"
    for label, cls in enumerate(classes):
        for f in sorted((base / cls).iterdir()):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(f) as im:
                    arr = np.asarray(im.convert(mode).resize((img_size, img_size), Image.BILINEAR), np.uint8)
            except (OSError, ValueError, Image.DecompressionBombError) as e:  # unreadable, truncated, not an image
                raise EdgeflowError(f"cannot read image {f} ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'unreadable'}); "
                                    "fix or remove it") from e
            images.append(arr[None] if in_chans == 1 else arr.transpose(2, 0, 1))
            labels.append(label)
    if not images:
        raise EdgeflowError(f"no images found under {base}")
    return ImageSet(np.stack(images), np.asarray(labels, np.int64), tuple(classes), str(root))
