"""Devices: profiles, transports and the standalone on-device benchmark script."""
