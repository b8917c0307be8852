# `make run` starts the whole stack on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test test-fast lint setup browser-deps bench clean migrations-check

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(PY) scripts/run_stack.py

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) bench/sandbox.py
	$(PY) bench/sync.py
	$(PY) bench/web.py
	$(PY) bench/load.py
	$(PY) bench/disconnect.py

clean:
	rm -rf $(VENV) instance .pytest_cache test-output
