"""Runners: one interface over PyTorch, ONNX Runtime and LiteRT. NCHW float in, float logits out."""

from edgeflow.runtimes.base import Runner

__all__ = ["Runner"]
