# Attest: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

# make run is the development server: DEBUG on unless the caller says otherwise.
run: export DEBUG ?= 1

.PHONY: run test lint format bench audit install clean-venv

# The stamp is rebuilt whenever requirements.txt changes, so re-running is cheap.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

install: $(VENV)/.installed

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

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

audit: install
	bash .ci/audit-dependencies

bench: install
	DEBUG=1 $(PY) bench/run.py

clean-venv:
	rm -rf $(VENV)
