# Tovholder — two commands on a fresh machine:
#   make run    set everything up, load the demo region, serve http://127.0.0.1:8000/
#   make test   set everything up and run the whole suite
# DATABASE_URL chooses the database (default: SQLite in var/); see README.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
MANAGE := $(BIN)/python manage.py
DEV_ENV := DEBUG=True
PYTEST_ARGS ?=

.PHONY: setup run serve worker test lint messages bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP) messages
	mkdir -p var

messages:
	@if command -v msgfmt >/dev/null 2>&1; then \
	  for po in tovholder/locale/*/LC_MESSAGES/django.po; do if [ -f "$$po" ]; then msgfmt -o "$${po%.po}.mo" "$$po"; fi; done; \
	else echo "msgfmt not found: using the committed .mo files"; fi

run: setup
	$(DEV_ENV) $(MANAGE) migrate --noinput
	$(DEV_ENV) $(MANAGE) demo_load --if-empty
	@echo "Tovholder: http://127.0.0.1:8000/  (logins in README.md; password tovholder-demo)"
	@$(DEV_ENV) $(MANAGE) run_worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(DEV_ENV) $(MANAGE) runserver 127.0.0.1:8000

test: setup
	$(BIN)/pytest -n 2 -rs $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
