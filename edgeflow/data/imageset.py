"""The in-memory image set and its preprocessing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImageSet:
    """Images as uint8 NCHW, integer labels, and class names."""

    images: np.ndarray  # (N, C, H, W) uint8
    labels: np.ndarray  # (N,) int64
    classes: tuple[str, ...]
    name: str
    notes: tuple[str, ...] = ()  # conversions made while reading (one line each), for the user and the manifest

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 NCHW, got {self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise ValueError("images and labels differ in length")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: int | None) -> "ImageSet":
        """The first ``n`` samples (all when ``n`` is None or larger than the set)."""
        if n is None or n >= len(self):
            return self
        return ImageSet(self.images[:n], self.labels[:n], self.classes, self.name, self.notes)

    def sha256(self) -> str:
        """Hash of the raw pixels and labels: identifies exactly which samples were used."""
        h = hashlib.sha256(np.ascontiguousarray(self.images).tobytes())
        h.update(np.ascontiguousarray(self.labels).tobytes())
        return h.hexdigest()


def preprocess(images: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """uint8 NCHW → float32 NCHW: scale pixels to [0, 1], then subtract mean and divide by std per channel."""
    x = images.astype(np.float32) / 255.0
    m = np.asarray(mean, np.float32).reshape(1, -1, 1, 1)
    s = np.asarray(std, np.float32).reshape(1, -1, 1, 1)
    return (x - m) / s
