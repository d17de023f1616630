"""Silence native (C++) log lines that TensorFlow, the TFLite converter and LiteRT write to stderr."""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def native_stderr_captured() -> Iterator[list[str]]:
    """Redirect file descriptor 2 to a temp file for the block; the captured text is appended to the
    yielded list, so a caller can show it when something fails."""
    sink: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield sink
        finally:
            sys.stderr.flush()
            _flush_c_stdio()  # native code may have buffered lines that would escape after the block
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            sink.append(tmp.read().decode(errors="replace"))


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass
