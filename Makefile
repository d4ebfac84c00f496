# Trustdesk: `make run` to try it, `make test` for the whole suite. See README.md.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PORT ?= 8000
SCALE ?= full
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint typecheck pytest bench lock clean

$(BIN)/python:
	@py=$$(scripts/find-python) || exit 1; \
	echo "Using $$py"; \
	"$$py" -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

run: $(VENV)/.installed
	$(BIN)/trustdesk setup
	$(BIN)/trustdesk serve --port $(PORT)

test: $(VENV)/.installed
	scripts/run-tests

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy trustdesk bench tests

bench: $(VENV)/.installed
	$(BIN)/python -m bench --scale $(SCALE)

lock: $(BIN)/python
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.12 --universal -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
