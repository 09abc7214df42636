# callbridge build. Every target installs what it needs, apt packages included,
# so a fresh machine needs only Python 3.11+ and root or sudo.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_RUNTIME := ffmpeg
APT_TEST := espeak-ng sox flite chromium firefox-esr iproute2 util-linux
# the trigger bench's held-out voices (bench/heldout.py) come from flite and festival
APT_BENCH := flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts

.PHONY: install install-test demo lint test bench clean system-runtime system-test system-bench

install: system-runtime $(VENV)/.installed

install-test: install system-test $(VENV)/.installed-test

# Installs only the apt packages that are missing, so a second run is instant.
system-runtime:
	@./scripts/apt-ensure $(APT_RUNTIME)

system-test:
	@./scripts/apt-ensure $(APT_TEST)

system-bench:
	@./scripts/apt-ensure $(APT_BENCH)

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

# The relay with the built-in campaign ("dinner tonight" -> the default ad):
# open http://127.0.0.1:8080/room/demo in two browsers.
demo: install
	$(BIN)/callbridge serve --host 127.0.0.1 --port 8080 --data data

# Style and types: ruff's lint and format check, then mypy (its scope is in pyproject.toml).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

# Run as modules from the repository root, so the bench imports the packages and tests.support as installed.
bench: install-test system-bench
	$(BIN)/python -m bench.trigger_bench
	$(BIN)/python -m bench.adengine_bench
	$(BIN)/python -m bench.relay_bench
	$(BIN)/python -m bench.browser_bench
	$(BIN)/python -m bench.first_ad_bench
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.load --minutes 30
	$(BIN)/python -m bench.campaign_bench
	$(BIN)/python -m bench.replay_bench
	$(BIN)/python -m bench.identity_bench
	$(BIN)/python -m bench.deepfake_bench

clean:
	rm -rf $(VENV) build *.egg-info
