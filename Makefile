# Custodia — the two commands are `make run` and `make test` (`make bench` for the benchmarks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
DETENTIONS ?= 300
# The benchmark suite's scale: detentions of the synthetic nation and of the report's database,
# ledger leaves (benchmarks/suite.py says how each scenario derives its size from it).
SCALE ?= 1000000

.PHONY: bench-ledger bench-reports bench-search run test test-postgres lint install demo docs lock clean bench

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# What the benchmarks add (DuckDB, pandas): benchmarks/requirements.lock.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): benchmarks/requirements.lock $(STAMP)
	$(BIN)/pip install --quiet --require-hashes -r benchmarks/requirements.lock
	touch $(BENCH_STAMP)

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

# Every benchmark scenario at SCALE, each against a baseline measured in the same run, in its
# own throw-away PostgreSQL database (CUSTODIA_BENCH_POSTGRES, default
# postgres://postgres@127.0.0.1:5432). Writes benchmarks/results/<date>.md (and each scenario's
# details beside it). See benchmarks/README.md.
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.suite --scale $(SCALE)

# The ledger alone (proofs, appends, verification) at SCALE leaves.
bench-ledger: $(STAMP)
	$(BIN)/python -m benchmarks.ledger --scale $(SCALE)

# The name search against pg_trgm and an exact B-tree lookup, on a generated evaluation set.
# Writes benchmarks/results/<date>-search-<people>[-sqlite].md.
PEOPLE ?= 5000000
HELD ?= 300000
BACKEND ?= postgres
bench-search: $(STAMP)
	$(BIN)/python -m benchmarks.search --people $(PEOPLE) --held $(HELD) --backend $(BACKEND)

# The monthly report on a synthetic nation in PostgreSQL, against one SQL aggregate of the month,
# DuckDB over Parquet and pandas over CSV (benchmarks/README.md). REPORT_DB keeps the loaded
# database (about 80 minutes at 10 million) and reuses it on the next run.
# Writes benchmarks/results/<date>-reports-<n>.md.
REPORT_DETENTIONS ?= 10000000
REPORT_DB ?=
bench-reports: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.reports --detentions $(REPORT_DETENTIONS) $(if $(REPORT_DB),--database $(REPORT_DB))

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/custodia rules --markdown > docs/rules.md

lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var/custodia.sqlite3
