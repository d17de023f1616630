"""The one exception type for problems a user can cause and fix."""


class EdgeflowError(Exception):
    """A user-fixable problem; the message says what to do. The CLI prints it in one line and exits 2."""


class GateFailure(EdgeflowError):
    """A parity gate failed; the CLI exits 1. ``result`` carries what was measured."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class Interrupted(EdgeflowError):
    """Ctrl-C stopped long work cleanly (state saved); the CLI exits 130."""
