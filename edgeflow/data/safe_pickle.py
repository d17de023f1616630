"""Unpickling a user's file without letting it run code.

A pickle names callables that are called while it loads (``os.system`` is one pickle opcode away), so a
plain ``pickle.load`` of a downloaded dataset file runs whatever it says. The only pickles edgeflow reads
are the CIFAR batch files: dicts of lists, strings, bytes and numpy arrays. This loader admits exactly
the globals numpy arrays need to rebuild themselves and refuses every other one before it is called.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from edgeflow.errors import EdgeflowError

# (module, name) pairs a pickled numpy array refers to (numpy 1.x and 2.x spell the module differently)
NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),  # protocol 5
    ("_codecs", "encode"),  # protocol 2 pickles store array bytes as latin-1 text via codecs.encode
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def load_data_pickle(path: Path) -> Any:
    """Load a data pickle (containers, strings, numbers, numpy arrays); refuse anything that names code."""
    try:
        with open(path, "rb") as f:
            return _RestrictedUnpickler(f, encoding="latin1").load()
    except pickle.UnpicklingError as e:
        raise EdgeflowError(f"{path} is not a plain data pickle ({e}); refusing to load it") from e
    except (OSError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise EdgeflowError(f"{path} is corrupt or not a pickle ({type(e).__name__}: {e})") from e
