"""Export stages: PyTorch → ONNX (onnxsim) → TFLite (onnx2tf + TFLite converter), and the manifest."""

from edgeflow.export.artifact import Artifact, Precision

__all__ = ["Artifact", "Precision"]
