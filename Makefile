# Podium: `make demo` serves the demo week, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ORGANISER := organiser@example.org
DEMO_PASSWORD := podium-demo

# The demo runs on SQLite with a broker that needs no server, unless told otherwise.
demo: export DJANGO_DEBUG ?= 1
demo: export CELERY_BROKER_URL ?= filesystem://
demo: export NOTIFICATIONS_DISPATCH_INTERVAL ?= 10
# Another address for the demo: PODIUM_DEMO_ADDRESS=127.0.0.1:8001 make demo (the
# printed links and the links in its emails follow).
PODIUM_DEMO_ADDRESS ?= 127.0.0.1:8000
demo: export PODIUM_DEMO_ADDRESS := $(PODIUM_DEMO_ADDRESS)
demo: export SITE_URL ?= http://$(PODIUM_DEMO_ADDRESS)

# The tests run on PostgreSQL when it answers (always under CI=true), else on SQLite.
TEST_DATABASE_URL ?= postgres://root@127.0.0.1:5432/test
typecheck pytest test: export DJANGO_SECRET_KEY ?= test-only-secret-key-not-for-production-use-0123456789abcdef
test: export REGISTRATION_RATE_LIMIT ?= 20/min
pytest test: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test lint typecheck pytest install dev-install bench-registration bench-email clean vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev-install: $(VENV)/.dev-installed

demo: install
	mkdir -p var/mail var/broker/processed var/broker/control
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py add_organiser $(DEMO_ORGANISER) social-work-week-2021 --password $(DEMO_PASSWORD) > /dev/null
	@echo
	@echo "  Podium:        http://$(PODIUM_DEMO_ADDRESS)/"
	@echo "  Console:       http://$(PODIUM_DEMO_ADDRESS)/accounts/login/?next=/organise/social-work-week-2021/"
	@echo "                 sign in as $(DEMO_ORGANISER) / $(DEMO_PASSWORD)"
	@echo "  Judge:         http://$(PODIUM_DEMO_ADDRESS)/accounts/login/  sign in as judge@example.org / $(DEMO_PASSWORD)"
	@echo "                 (scores the fifth batch of demonstration bases)"
	@echo "  API docs:      http://$(PODIUM_DEMO_ADDRESS)/api/docs/"
	@echo "  Mail:          written to var/mail/ (one .eml per message) and shown here"
	@echo
	@# The worker and the scheduler run beside the web server and stop with it.
	BIN=$(BIN) exec sh scripts/demo.sh

lint: dev-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: dev-install
	$(BIN)/mypy config events awards notifications

pytest: dev-install
	DATABASE_URL="$${DATABASE_URL:-$$($(BIN)/python tests/database_url.py $(TEST_DATABASE_URL))}" \
		$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench-registration: dev-install
	$(BIN)/python bench/flash_crowd.py

bench-email: dev-install
	$(BIN)/python bench/fanout.py

# Refreshes static/vendor/ from package.json (needs Node.js; the copies are committed).
vendor:
	sh scripts/vendor.sh

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
