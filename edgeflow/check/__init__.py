"""Checks on exported models: parity (run, then compare), latency, per-layer int8 localisation."""
