# The two commands: `make run` (one process, no services) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-services lint bench clean

run: $(VENV)/.installed
	$(BIN)/campaigns db upgrade
	$(BIN)/campaigns run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite again on PostgreSQL with the Redis broker (CI runs both).
test-services: $(VENV)/.installed
	CAMPAIGNS_TEST_DATABASE_URL=$(POSTGRES_URL) CAMPAIGNS_TEST_BROKER_URL=$(REDIS_URL) \
		$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: $(VENV)/.installed
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
