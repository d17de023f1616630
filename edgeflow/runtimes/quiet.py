"""Silence native (C++) log lines that TensorFlow, the TFLite converter and LiteRT write to stderr."""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def native_stderr_captured(fd: int = 2) -> Iterator[list[str]]:
    """Redirect file descriptor ``fd`` (2: stderr) to a temp file for the block; the captured text is
    appended to the yielded list, so a caller can show it when something fails."""
    sink: list[str] = []
    stream = sys.stdout if fd == 1 else sys.stderr
    stream.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield sink
        finally:
            stream.flush()
            _flush_c_stdio()  # native code may have buffered lines that would escape after the block
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            sink.append(tmp.read().decode(errors="replace"))


@contextmanager
def native_output_captured() -> Iterator[None]:
    """Both stdout and stderr, at the file-descriptor level (C++ loggers write to either)."""
    with native_stderr_captured(1), native_stderr_captured(2):
        yield


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass
