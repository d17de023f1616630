"""Network families; importing this package registers every net."""

from edgeflow.nets import cresnet, dilated, selfdistill, sepnet, slim  # noqa: F401
