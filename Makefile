# Two commands for a newcomer: `make run` and `make test`. Each bootstraps .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Tests are independent (own SQLite file or PostgreSQL schema each): two processes.
PYTEST_ARGS ?= -n 2

.PHONY: run test lint bench check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "Cần Python 3.11 trở lên (đặt PYTHON=...)"; exit 1; }

$(VENV)/.installed: pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/lms migrate
	$(BIN)/lms courses sync
	$(BIN)/lms hoi-dap sync
	$(BIN)/lms serve --host 127.0.0.1 --port 8000

test: $(VENV)/.dev-installed
	$(BIN)/lms courses check
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.dev-installed
	@test -d bench/node_modules || npm ci --prefix bench --no-audit --no-fund
	@for script in bench/[a-z]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done
