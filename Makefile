# Two commands are the contract with a new user: `make demo` and `make test`.
# Each sets up everything it needs (a virtual environment in .venv, the package and its
# dependencies) on a machine that has only Python 3.11+ and make, then runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/archiver demo --db data/archive.db

test: setup lint typecheck
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check archiver spiders pipelines tests bench

typecheck: setup
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data/archive.db data/archive.db-wal data/archive.db-shm .pytest_cache
