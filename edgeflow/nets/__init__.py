"""Network families; importing this package registers every net."""

from edgeflow.nets import sepnet  # noqa: F401
