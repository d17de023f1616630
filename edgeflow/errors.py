"""The one exception type for problems a user can cause and fix."""


class EdgeflowError(Exception):
    """A user-fixable problem; the message says what to do. The CLI prints it in one line and exits 2."""


class GateFailure(EdgeflowError):
    """A parity gate failed; the CLI exits 1."""
