# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run check test test-fast bench clean messages catalogs

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("collectbot needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

I18N := bot/i18n
CATALOGS := $(wildcard $(I18N)/locale/*/LC_MESSAGES/collectbot.po)

# The compiled catalogs (.mo) the bot reads; without them it compiles the .po in memory and warns.
$(I18N)/locale/%/LC_MESSAGES/collectbot.mo: $(I18N)/locale/%/LC_MESSAGES/collectbot.po $(BIN)/.installed
	$(BIN)/pybabel compile -D collectbot -d $(I18N)/locale -l $* --statistics

catalogs: $(CATALOGS:.po=.mo)

# After changing the bot's texts: extract the template and update every language's .po from it
# (see README "Adding a language").
messages: install
	$(BIN)/pybabel extract -F $(I18N)/babel.cfg --project=collectbot --copyright-holder=collectbot --no-wrap \
		--sort-by-file -c "TRANSLATORS:" -o $(I18N)/locale/collectbot.pot .
	$(BIN)/pybabel update -D collectbot -i $(I18N)/locale/collectbot.pot -d $(I18N)/locale --no-wrap --ignore-obsolete --no-fuzzy-matching

# The project's own modules are compiled ahead (an editable install leaves them to the first import,
# which cannot keep the result where PYTHONDONTWRITEBYTECODE is set): ~0.1 s of every start.
install: $(BIN)/.installed catalogs
	$(BIN)/python -m compileall -q bot handlers scheduling phrasebook

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
