"""One progress-bar style for all long work (rich), silenced when not wanted."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A rich Progress; with ``enabled=False`` it tracks tasks but draws nothing."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn(), disable=not enabled, transient=False)
    with bar:
        yield bar
