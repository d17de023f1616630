"""edgeflow: take lightweight image classifiers from PyTorch to edge devices and prove they still work."""

__version__ = "0.1.0"
