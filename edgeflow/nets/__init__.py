"""Network families; importing this package registers every net."""

from edgeflow.nets import dilated, sepnet  # noqa: F401
