# Spiral — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# PostgreSQL used by `make test` (the suite runs on SQLite and on PostgreSQL).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/spiral
PYTEST_WORKERS ?= 2
CHROMIUM_PATH ?= /usr/bin/chromium

.PHONY: bench-large run serve install messages makemessages migrate demo test test-sqlite test-postgres test-e2e lint typecheck check bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

messages: install
	$(PY) manage.py compile_translations --strict

makemessages: install
	cd src/spiral && ../../$(PY) ../../manage.py makemessages -l fr --no-obsolete --ignore "static/*" --ignore "data/*"

migrate: install messages
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo_data --if-empty

## make run: venv, install, migrate, demo data when the database is empty, serve on HOST:PORT
## with the background task worker (model training, large pre-codings and imports) beside it
run: demo
	@echo "Spiral on http://$(HOST):$(PORT)/  (demo accounts: see README)"
	$(PY) manage.py db_worker --queue-name "*" & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

## make test: lint and types, the suite on SQLite and on PostgreSQL, then the browser tests
test: check test-sqlite test-postgres test-e2e

check: install messages
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy src
	$(PY) manage.py makemigrations --check --dry-run
	SPIRAL_ENV=production SECRET_KEY=$$($(PY) -c "import secrets; print(secrets.token_urlsafe(50))") \
	  ALLOWED_HOSTS=example.org $(PY) manage.py check --deploy --fail-level WARNING

test-sqlite: install messages
	$(PY) -m pytest -m "not e2e" -n $(PYTEST_WORKERS) -q

test-postgres: install messages
	@$(PY) -c "import psycopg,sys; psycopg.connect('$(TEST_DATABASE_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" \
	  || (echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL): start it, set TEST_DATABASE_URL, or run make test-sqlite." && exit 1)
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -m "not e2e" -n $(PYTEST_WORKERS) -q

test-e2e: install messages
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) -m pytest -m e2e -q

lint: check

typecheck: install
	$(VENV)/bin/mypy src

BENCH_CRITERIA ?= 1000000
PG_REACHABLE = $(PY) -c "import psycopg; psycopg.connect('$(TEST_DATABASE_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()"

## make bench: the benchmarks named by the issues, on SQLite and PostgreSQL (not part of make test)
bench: install messages
	$(PY) tests/bench/run.py --database sqlite
	$(PY) tests/bench/synthesis.py --database sqlite --criteria $(BENCH_CRITERIA)
	$(PY) tests/bench/suggestions.py --database sqlite
	$(PY) manage.py evaluate_suggestions
	$(PY) tests/bench/indicators.py --database sqlite
	$(PY) tests/bench/transfers.py --database sqlite
	$(PY) tests/bench/carbon.py --database sqlite
	$(PY) tests/bench/selfentry.py --database sqlite
	@$(PG_REACHABLE) || (echo "PostgreSQL not reachable at $(TEST_DATABASE_URL)" && exit 1)
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) tests/bench/run.py --database postgres
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) tests/bench/synthesis.py --database postgres --criteria $(BENCH_CRITERIA)
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) tests/bench/suggestions.py --database postgres
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) tests/bench/indicators.py --database postgres
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) tests/bench/transfers.py --database postgres
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) tests/bench/carbon.py --database postgres
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL)_bench $(PY) tests/bench/selfentry.py --database postgres

## make bench-large: the synthesis benchmarks at 10,000,000 criteria (about an hour in all)
bench-large:
	$(MAKE) bench BENCH_CRITERIA=10000000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
