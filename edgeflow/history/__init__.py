"""The history of runs: every export, parity and device bench appends what it measured to one SQLite file
(``db``), built from the run's result files (``runs``); ``regress`` compares the newest run with the earlier
ones on the same device."""
