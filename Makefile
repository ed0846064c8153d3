# The two commands a new user needs are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
# checkov lives in its own venv: its pins (pycep-parser 0.5.1, packaging 23) conflict with
# requirements-dev.txt (see requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
STAMP_CHECKOV := $(CHECKOV_VENV)/.installed

.PHONY: help install browser demo test test-unit lint format up bench clean

help:
	@echo "make demo   run the tutorial's ingestion end to end on the local stack"
	@echo "make test   lint, type-check and run every test (unit, integration, conformance)"
	@echo "make up     start the local stack in the foreground (Azurite, emulators, local Functions host)"
	@echo "make lint   ruff and mypy only"
	@echo "make bench  print benchmark figures"

$(STAMP_PY): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# the project itself, for its console script `geocatalog-ingest` (the CLI in cli/)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMP_CHECKOV): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

install: $(STAMP_PY) $(STAMP_NODE)

# Headless Chromium and its WebDriver for the job page tests (Debian packages; CI runs as root).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver)

lint: $(STAMP_PY) $(STAMP_CHECKOV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(CHECKOV_VENV)/bin/checkov -d infra --framework bicep --quiet --compact --skip-download

format: $(STAMP_PY)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two workers: the suite is mostly waiting on Azurite, the emulators and the local host.
test: install browser lint
	$(BIN)/python -m pytest -n 2

test-unit: $(STAMP_PY)
	$(BIN)/python -m pytest tests/unit

demo: install
	$(BIN)/python -m local.demo

up: install
	$(BIN)/python -m local.stack

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
