# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

# `make run` is the local demo: DEBUG on, SQLite under var/, Celery tasks in-process.
RUN_ENV := DEBUG=$${DEBUG:-1}

.PHONY: run test lint format bench worker beat migrate seed check-deploy clean docs-screenshots

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the requirement files change.
$(VENV)/.installed-prod: requirements.txt | $(BIN)/activate
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-prod

# Local development settings, git-ignored; real environment variables win over it.
.env:
	printf '# Local development settings (git-ignored). Real environment variables win.\nDEBUG=1\n' > .env

run: $(VENV)/.installed-prod .env
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py seed_demo --size small
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev .env
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	@for script in bench/bench_*.py; do echo "== $$script"; $(RUN_ENV) $(PY) $$script || exit 1; done

migrate: $(VENV)/.installed-prod
	$(RUN_ENV) $(PY) manage.py migrate --no-input

seed: $(VENV)/.installed-prod
	$(RUN_ENV) $(PY) manage.py seed_demo --size $${SIZE:-small}

# Needs CELERY_BROKER_URL (and the same DATABASE_URL as the web process).
worker: $(VENV)/.installed-prod
	$(RUN_ENV) $(BIN)/celery -A opsintel worker --loglevel=INFO

beat: $(VENV)/.installed-prod
	$(RUN_ENV) $(BIN)/celery -A opsintel beat --loglevel=INFO

# The screenshots in docs/img/, from the browser tests' var/screenshots/ (run those first:
# .venv/bin/pytest tests/e2e/test_pages.py), shrunk to at most 1000 px wide.
docs-screenshots: $(VENV)/.installed-dev
	$(PY) scripts/docs_screenshots.py

clean:
	rm -rf $(VENV) var/opsintel.sqlite3 var/static .pytest_cache .ruff_cache
