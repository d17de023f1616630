"""Datasets as in-memory uint8 image arrays, and the one preprocessing used for training and export."""

from edgeflow.data.imageset import ImageSet, preprocess
from edgeflow.data.sources import DATASETS, load_dataset

__all__ = ["DATASETS", "ImageSet", "load_dataset", "preprocess"]
