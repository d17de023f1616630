"""Build the embedded Fashion-MNIST subset committed under data/ (run once; kept for provenance).

    python -m edgeflow.data.embedded [SRC_DIR]

Takes all 10,000 test images and 2,000 training images (200 per class, the first of each class in file
order) from the full IDX files, and writes ``data/fashion-mnist/embedded.npz``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from edgeflow.data.sources import DEBIAN_FASHION_DIR, EMBEDDED_FILE, load_dataset
from edgeflow.paths import data_dir

TRAIN_PER_CLASS = 200


def build(src: Path, dst: Path) -> None:
    test = load_dataset("fashion-mnist", "test", src)
    train = load_dataset("fashion-mnist", "train", src)
    keep = np.concatenate([np.flatnonzero(train.labels == c)[:TRAIN_PER_CLASS] for c in range(10)])
    keep.sort()
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, test_images=test.images, test_labels=test.labels.astype(np.uint8),
                        train_images=train.images[keep], train_labels=train.labels[keep].astype(np.uint8))
    tmp.replace(dst)


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEBIAN_FASHION_DIR, data_dir() / EMBEDDED_FILE)
