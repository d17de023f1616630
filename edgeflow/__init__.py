"""edgeflow: take lightweight image classifiers from PyTorch to edge devices and prove they still work."""

# light: the pipeline is imported when export_model() runs. (Not named `export`: the subpackage
# edgeflow.export would replace that attribute as soon as it is imported.)
from edgeflow.api import export_model

__version__ = "0.1.0"
__all__ = ["export_model"]
