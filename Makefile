# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run check test test-fast bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("collectbot needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/collectbot run

# The house rules: import layers (import-linter, contracts in pyproject.toml), ruff, mypy.
check: install
	$(BIN)/lint-imports
	$(BIN)/ruff check bot handlers scheduling phrasebook tests bench
	$(BIN)/mypy

test: check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Unit tests only: no database, no program started, no files (marked `unit` in tests/conftest.py).
test-fast: install
	$(BIN)/python -m pytest -m unit -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
