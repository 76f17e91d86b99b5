# Attest: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The pip that installs the pins; a pinned pip resolves the same way on every machine.
PIP_VERSION := 26.3
# Test processes (pytest-xdist); tests that must not run side by side share an xdist_group (tests/conftest.py).
PYTEST_WORKERS ?= auto
# Keeps each worker's test database between runs (PostgreSQL; SQLite's is in memory). CI passes --create-db.
PYTEST_ARGS ?= --reuse-db

# make run is the development server: DEBUG on unless the caller says otherwise.
run: export DEBUG ?= 1

.PHONY: run test lint format bench audit audit-refresh install install-dev clean-venv

# Runtime only (make run, production). The stamp is rebuilt whenever requirements.txt changes.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Runtime plus tests, lint, bench and audit; rebuilt when either file changes.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap --base-url http://$(HOST):$(PORT)
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
	  echo "CELERY_BROKER_URL is set: starting a Celery worker and beat beside the server."; \
	  mkdir -p var; \
	  trap 'kill $$worker $$beat 2>/dev/null; wait $$worker $$beat 2>/dev/null' EXIT INT TERM; \
	  $(VENV)/bin/celery -A config worker --loglevel=INFO & worker=$$!; \
	  $(VENV)/bin/celery -A config beat --loglevel=INFO & beat=$$!; \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	else \
	  echo "No CELERY_BROKER_URL: tasks run in-process after each commit."; \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

# The schemathesis contract test runs apart, in one process: its items share one node id under pytest 9,
# which xdist's grouped scheduling would collapse to one. Exit 5 (nothing selected) is no failure.
test: install-dev
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not contract" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -m contract $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# pip-audit where the index is reachable (it says SKIPPED otherwise), then the committed snapshot, always.
audit: install-dev
	@status=0; bash .ci/audit-dependencies || status=1; \
	  $(PY) .ci/audit_snapshot.py check || status=1; exit $$status

# Online: rewrites .ci/advisories.json from OSV for every pinned package (commit the result).
audit-refresh: install-dev
	$(PY) .ci/audit_snapshot.py refresh

bench: install-dev
	DEBUG=1 $(PY) bench/run.py

clean-venv:
	rm -rf $(VENV)
