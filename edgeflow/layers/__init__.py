"""Reusable, export-safe building blocks."""

from edgeflow.layers.kronecker import KroneckerLinear
from edgeflow.layers.separable import ConvBNReLU, SeparableConv2d

__all__ = ["ConvBNReLU", "KroneckerLinear", "SeparableConv2d"]
