# Custodia — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
DETENTIONS ?= 300

.PHONY: run test test-postgres lint install demo docs lock clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/custodia demo --detentions $(DETENTIONS)
	$(BIN)/custodia serve --host $(HOST) --port $(PORT)

# SQLite always; PostgreSQL too when CUSTODIA_TEST_POSTGRES holds a server URL
# (for example postgres://postgres@127.0.0.1:5432/custodia; the suite uses test_<name>).
test: $(STAMP)
	$(BIN)/pytest
	@if [ -n "$$CUSTODIA_TEST_POSTGRES" ]; then \
		echo "== PostgreSQL: $$CUSTODIA_TEST_POSTGRES"; \
		DATABASE_URL="$$CUSTODIA_TEST_POSTGRES" $(BIN)/pytest --create-db; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/custodia rules --markdown > docs/rules.md

lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var/custodia.sqlite3
