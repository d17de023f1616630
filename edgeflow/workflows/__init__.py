"""Whole tasks built from the stages: export, device bench, prune-to-file."""
