# edgeflow — quick start: `make demo`, `make test`. Each creates .venv and installs when it is stale.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: install system-deps demo test test-all bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,litert]'  # litert: the second converter, so CI exercises it
	touch $(STAMP)

install: $(STAMP)

# Debian packages: the full Fashion-MNIST (training, data tests), an OpenSSH server (the SSH device tests
# start their own sshd on loopback), qemu-user-static (the emulated Raspberry Pi) and chromium (the HTML
# report is checked in a headless browser).
SYSTEM_PACKAGES := dataset-fashion-mnist openssh-server qemu-user-static chromium
system-deps:
	@if [ ! -d $(FASHION_DIR) ] || [ ! -x /usr/sbin/sshd ] || ! command -v qemu-aarch64-static >/dev/null \
	    || ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else echo "run: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; fi; fi

demo: install
	$(VENV)/bin/edgeflow export sep_res18_s3 --int8 --force

# One worker per core (pytest-xdist); tests marked with the same xdist_group run on one worker.
test: install system-deps
	$(PY) -m pytest -q -n auto --dist loadgroup --durations=15 tests runtime_tests

test-all: install system-deps
	$(PY) -m pytest -q -n auto --dist loadgroup -m "" tests runtime_tests

bench: install
	$(PY) bench/bench_export.py

clean:
	rm -rf $(VENV) export build *.egg-info
