"""The typer command-line interface (thin: parse, call, print)."""
