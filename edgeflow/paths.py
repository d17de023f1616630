"""Where the data folders (models/, data/, devices/, export/) live.

They sit at the repository root beside the package. Code finds them only through this module.
``EDGEFLOW_HOME`` overrides the root (e.g. for an installed package used outside a checkout).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The folder holding models/, data/, devices/ (the repository root unless EDGEFLOW_HOME is set)."""
    env = os.environ.get("EDGEFLOW_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    return project_root() / "models"


def model_dir(name: str) -> Path:
    return models_dir() / name


def data_dir() -> Path:
    return project_root() / "data"


def export_dir() -> Path:
    return project_root() / "export"


def devices_dir() -> Path:
    return project_root() / "devices"
