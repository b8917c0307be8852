# `make run` starts the whole stack on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The coverage gates for wizard/ + workers/, each figure on its own (scripts/coverage_gate.py).
COVERAGE_LINES_MIN ?= 95
COVERAGE_BRANCHES_MIN ?= 90
export FLASK_APP := wsgi

.PHONY: run test test-fast lint typecheck setup lock browser-deps bench clean migrations-check

# Installs the lock file: every runtime and tooling package, transitive ones included, pinned.
$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

setup: $(STAMP)

# After changing requirements.txt: pin everything it pulls in, then commit both files.
lock:
	$(VENV)/bin/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-find-links --no-emit-index-url \
		--no-emit-trusted-host --output-file requirements.lock requirements.txt

run: $(STAMP)
	$(PY) scripts/run_stack.py

# Coverage over the product, the worker processes (coverage's subprocess patch) and the sandbox;
# the gates are on wizard/ + workers/: lines and branches each against its own minimum (coverage's
# --fail-under would check one figure that mixes the two).
test: $(STAMP)
	mkdir -p test-output && rm -f test-output/.coverage test-output/.coverage.* test-output/coverage.json
	$(PY) -m pytest --cov --cov-report=
	$(VENV)/bin/coverage report --include='xero_sandbox/*' | tail -n 3
	$(VENV)/bin/coverage json --include='wizard/*,workers/*' -q -o test-output/coverage.json
	$(PY) scripts/coverage_gate.py test-output/coverage.json \
		--lines $(COVERAGE_LINES_MIN) --branches $(COVERAGE_BRANCHES_MIN)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The benchmarks need wrk (bench/web.py); install it as .ci/run installs what a machine lacks.
bench: $(STAMP)
	command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/sandbox.py
	$(PY) bench/sync.py
	$(PY) bench/web.py
	$(PY) bench/load.py
	$(PY) bench/sign_in.py
	$(PY) bench/disconnect.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache test-output
