# Vigil: `make run` serves the portal with demo data; `make test` runs the whole test suite.
# Both install into .venv first. Without DATABASE_URL / REDIS_URL a private PostgreSQL and Redis start under .data/.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint format clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	touch $@

# The demo runs with DEBUG on (development secret key, no HTTPS) unless DEBUG is set in the environment.
run: export DEBUG ?= true
# --prepare runs `migrate` and `seed_demo` in the same process, so that the embedded servers it starts are the
# ones it stops on Ctrl-C.
run: install
	$(BIN)/python manage.py run_portal --prepare

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
