"""Settings for every test process, set before any test module imports torch or TensorFlow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# `make test` runs one pytest-xdist worker per core: one torch thread each keeps the workers from
# fighting over the cores (torch would otherwise start a thread per core in every worker).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

# Runs that export/parity/bench record go to a history database of this test session, never to the user's
# cache (edgeflow.history.db.default_path reads EDGEFLOW_HISTORY first).
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

_history_dir = tempfile.mkdtemp(prefix="edgeflow-test-history-")
os.environ["EDGEFLOW_HISTORY"] = os.path.join(_history_dir, "history.sqlite")
atexit.register(shutil.rmtree, _history_dir, True)
