"""Network families; importing this package registers every net."""

from edgeflow.nets import dilated, sepnet, slim  # noqa: F401
