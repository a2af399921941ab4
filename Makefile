# Tend: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
RUFF := $(VENV)/bin/ruff
BANDIT := $(VENV)/bin/bandit
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test lint test-sqlite test-postgres collectstatic-check clean bench restore-drill

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py createcachetable
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	DJANGO_DEBUG=1 TEND_OPEN_SIGNUP=1 $(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(RUFF) check .
	$(RUFF) format --check .
	$(BANDIT) -q -r accounts intimacy -x '*/migrations/*,*/tests/*' --severity-level medium
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Models and migrations disagree: run makemigrations"; exit 1; }

# The whole suite but the browser tests on SQLite, then everything (browser tests too) on PostgreSQL.
# TEST_WORKERS processes each (pytest-xdist; each has its own test database, live server and Chromium):
# 2 for the 2-core machine CI runs on, 1 to run in one process (`make test TEST_WORKERS=1`).
TEST_WORKERS ?= 2
test-sqlite: install
	$(PYTEST) -q -m "not browser" -p no:cacheprovider -n $(TEST_WORKERS)

test-postgres: install
	scripts/with-postgres $(PYTEST) -q -p no:cacheprovider -n $(TEST_WORKERS)

test: lint test-sqlite test-postgres

# Load benchmark on a throwaway PostgreSQL with scale data; not part of `make test` (docs/PERFORMANCE.md).
# BENCH_MODE=pages measures one page at a time (issue 16's budgets); BENCH_SIZE=quick for a smaller run,
# BENCH_INSTANCES=2 for two gunicorn instances behind a round-robin client, BENCH_PROFILE=1 adds a
# pyinstrument profile of every page. The load is Locust's (scripts/locustfile.py).
bench: install
	scripts/with-postgres $(PY) scripts/bench.py

# Restore drill against the PostgreSQL in DATABASE_URL: dump it, restore into a throwaway database on
# the same server, compare row counts, check migrations, drop it (docs/DEPLOY.md, "Backups and restore").
# Needs only the app's own virtualenv, so it runs on a production host too.
restore-drill:
	$(PY) scripts/restore_drill.py

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3 test-artifacts
