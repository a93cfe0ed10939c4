# OrderBridge: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Database, broker queue and caches of the embedded run; settings read the same variable.
VAR_DIR := $(or $(ORDERBRIDGE_VAR_DIR),var)
# pytest-xdist processes for `make test` (each gets its own test database); the suite is built for 2 cores.
TEST_WORKERS ?= 2

.PHONY: run test install install-dev static-deps messages lint bench demo clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.base node_modules/.installed messages
install-dev: $(VENV)/.dev node_modules/.installed messages

messages: $(VENV)/.base
	$(PY) manage.py compilemessages --verbosity 0 --ignore=.venv --ignore=node_modules

## make run: migrate, demo users and data, then web + Celery worker + beat until Ctrl-C.
run: install
	mkdir -p $(VAR_DIR)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	$(PY) manage.py crm_sync_setup_demo
	@echo "OrderBridge: http://$(HOST):$(PORT)/  (web, Celery worker and beat; Ctrl-C stops them all)"
	HOST=$(HOST) PORT=$(PORT) WEB_PORT=$(PORT) $(PY) -m config.run_all -f Procfile

## make test: what CI runs (CI sets DATABASE_URL to PostgreSQL): lint, format, types, migrations, the suite.
test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run --verbosity 0
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

## make lint: the static checks alone (no database, no tests).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## make bench: one JSON object per line (see README, Benchmarks).
bench: install-dev
	$(PY) -m tests.bench.run

demo: install
	mkdir -p $(VAR_DIR)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	$(PY) manage.py crm_sync_setup_demo

clean:
	rm -rf var .pytest_cache
