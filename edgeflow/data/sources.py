"""Readers for each supported dataset; all return an ``ImageSet`` of uint8 NCHW images.

Datasets are read from local files only; nothing is downloaded here (see README for where to get them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from edgeflow.data.idx import find_idx, read_idx
from edgeflow.data.imageset import ImageSet
from edgeflow.data.safe_pickle import load_data_pickle
from edgeflow.errors import EdgeflowError
from edgeflow.paths import data_dir

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
EMBEDDED_FILE = "fashion-mnist/embedded.npz"
SPLITS = ("train", "test")


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise EdgeflowError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return split


def _idx_pair(root: Path, split: str, what: str, hint: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    img = find_idx(root, f"{prefix}-images-idx3-ubyte")
    lab = find_idx(root, f"{prefix}-labels-idx1-ubyte")
    if img is None or lab is None:
        raise EdgeflowError(f"{what} {split} files not found in {root}. {hint}")
    return read_idx(img)[:, None, :, :], read_idx(lab).astype(np.int64)


def _fashion_mnist(split: str, root: Path | None) -> ImageSet:
    candidates = [root, root / "FashionMNIST" / "raw"] if root else [DEBIAN_FASHION_DIR]
    hint = ("Install Debian's package (`apt-get install dataset-fashion-mnist`), pass --data-dir with the "
            "IDX files, or use --data fashion-mnist-embedded (the subset committed in data/).")
    for c in candidates:
        if c and find_idx(c, "t10k-images-idx3-ubyte"):
            images, labels = _idx_pair(c, split, "Fashion-MNIST", hint)
            return ImageSet(images, labels, FASHION_CLASSES, "fashion-mnist")
    raise EdgeflowError(f"Fashion-MNIST not found in {candidates[0]}. {hint}")


def _fashion_embedded(split: str, root: Path | None) -> ImageSet:
    path = root / "embedded.npz" if root else data_dir() / EMBEDDED_FILE
    if not path.is_file():
        raise EdgeflowError(f"embedded Fashion-MNIST subset missing at {path}; restore data/ from git")
    try:
        with np.load(path, allow_pickle=False) as z:  # an object array (pickle) inside is refused
            return ImageSet(z[f"{split}_images"], z[f"{split}_labels"].astype(np.int64), FASHION_CLASSES,
                            "fashion-mnist-embedded")
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise EdgeflowError(f"{path} is not the embedded Fashion-MNIST subset ({type(e).__name__}: "
                            f"{str(e).splitlines()[0] if str(e) else 'unreadable'}); restore data/ from git") from e


def _mnist(split: str, root: Path | None) -> ImageSet:
    hint = "Pass --data-dir pointing at a torchvision MNIST folder (MNIST/raw/*-idx?-ubyte)."
    base = _require_root(root, "MNIST", hint) / "MNIST" / "raw"
    images, labels = _idx_pair(base, split, "MNIST", hint)
    return ImageSet(images, labels, tuple(str(i) for i in range(10)), "mnist")


def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise EdgeflowError(f"missing {path}; pass --data-dir with the torchvision-format dataset folder")
    batch = load_data_pickle(path)  # never plain pickle: a crafted batch file would run code
    if not isinstance(batch, dict):
        raise EdgeflowError(f"{path} is not a CIFAR batch (a dict expected, got {type(batch).__name__})")
    return batch


def _cifar10(split: str, root: Path | None) -> ImageSet:
    base = _require_root(root, "CIFAR-10", "torchvision layout: cifar-10-batches-py/") / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    batches = [_unpickle(base / n) for n in names]
    images = np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32).astype(np.uint8)
    labels = np.concatenate([b["labels"] for b in batches]).astype(np.int64)
    classes = tuple(_unpickle(base / "batches.meta")["label_names"])
    return ImageSet(images, labels, classes, "cifar10")


def _cifar100(split: str, root: Path | None) -> ImageSet:
    base = _require_root(root, "CIFAR-100", "torchvision layout: cifar-100-python/") / "cifar-100-python"
    batch = _unpickle(base / split)
    images = np.asarray(batch["data"]).reshape(-1, 3, 32, 32).astype(np.uint8)
    classes = tuple(_unpickle(base / "meta")["fine_label_names"])
    return ImageSet(images, np.asarray(batch["fine_labels"], np.int64), classes, "cifar100")


def _svhn(split: str, root: Path | None) -> ImageSet:
    path = _require_root(root, "SVHN", "torchvision layout: train_32x32.mat") / f"{split}_32x32.mat"
    if not path.is_file():
        raise EdgeflowError(f"missing {path}; pass --data-dir with the SVHN .mat files")
    try:
        from scipy.io import loadmat
    except ImportError as e:
        raise EdgeflowError("reading SVHN .mat files needs scipy: pip install scipy") from e

    mat = loadmat(path)
    images = np.transpose(mat["X"], (3, 2, 0, 1)).astype(np.uint8)
    labels = mat["y"].astype(np.int64).ravel() % 10  # SVHN stores digit 0 as label 10
    return ImageSet(images, labels, tuple(str(i) for i in range(10)), "svhn")


def _require_root(root: Path | None, what: str, layout: str) -> Path:
    if root is None or not root.is_dir():
        raise EdgeflowError(f"{what} needs --data-dir (a local folder; {layout}). Nothing is downloaded.")
    return root


DATASETS: dict[str, Callable[[str, Path | None], ImageSet]] = {
    "fashion-mnist": _fashion_mnist,
    "fashion-mnist-embedded": _fashion_embedded,
    "mnist": _mnist,
    "cifar10": _cifar10,
    "cifar100": _cifar100,
    "svhn": _svhn,
}


def load_dataset(name: str, split: str, root: Path | str | None = None, *, img_size: int = 32,
                 in_chans: int = 3) -> ImageSet:
    """Load ``split`` of a named dataset, or of an ImageFolder when ``name`` is a directory path."""
    _check_split(split)
    root = Path(root).expanduser() if root else None
    if name in DATASETS:
        try:
            return DATASETS[name](split, root)
        except (KeyError, ValueError, TypeError, IndexError) as e:  # a file of the right name, wrong content
            raise EdgeflowError(f"dataset {name} in {root or 'its default folder'} is malformed "
                                f"({type(e).__name__}: {e}); check the files") from e
    if Path(name).expanduser().is_dir():
        from edgeflow.data.folder import load_image_folder

        return load_image_folder(Path(name).expanduser(), split, img_size=img_size, in_chans=in_chans)
    raise EdgeflowError(f"unknown dataset {name!r}; use one of {', '.join(DATASETS)} or an ImageFolder path")
