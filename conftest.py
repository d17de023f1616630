"""Settings for every test process, set before any test module imports torch or TensorFlow."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# `make test` runs one pytest-xdist worker per core: one torch thread each keeps the workers from
# fighting over the cores (torch would otherwise start a thread per core in every worker).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
