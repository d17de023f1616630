"""The exception types for problems a user can cause and fix, and for stopping on a signal."""


class EdgeflowError(Exception):
    """A user-fixable problem; the message says what to do. The CLI prints it in one line and exits 2."""


class GateFailure(EdgeflowError):
    """A parity gate failed; the CLI exits 1. ``result`` carries what was measured."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class Interrupted(EdgeflowError):
    """Ctrl-C or SIGTERM stopped long work cleanly (state or measured results saved); the CLI exits 130
    (143 for SIGTERM)."""

    def __init__(self, message: str, signum: int = 2) -> None:
        super().__init__(message)
        self.signum = signum


class Stopped(BaseException):
    """Raised by the CLI's SIGINT/SIGTERM handler. A BaseException, so no ``except Exception`` swallows it
    and every ``finally`` (staging folders, remote processes) runs on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (KeyboardInterrupt, Stopped)  # what "the user asked to stop" looks like to library code
