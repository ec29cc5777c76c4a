# Taizhang: two commands.
#   make run   — set everything up on a fresh machine and serve the demo on http://127.0.0.1:8000 (SQLite, tasks in-process)
#   make test  — install the test dependencies and run the whole suite against this machine's PostgreSQL and Redis
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

setup: $(STAMP) node_modules/.package-lock.json
	npm run build --silent
	$(BIN)/taizhang compilemessages --ignore=.venv --ignore=node_modules -v 0

run: setup
	$(BIN)/taizhang migrate --no-input -v 0
	$(BIN)/taizhang demo_load
	$(BIN)/taizhang runserver 127.0.0.1:8000

test: setup
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: setup
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python bench/bench_dsl.py
	$(BIN)/python bench/bench_forms.py
	$(BIN)/python bench/bench_ledger.py
	$(BIN)/python bench/bench_rules.py
	$(BIN)/python bench/bench_inbox.py

clean:
	rm -rf $(VENV) node_modules var
