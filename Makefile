# sentd — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast lint format bench bench-sustained clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## Start (or join) the database, migrate, create the demo organization on first run, serve
## (:8000 unless PORT=…; HOST=… for the address). On a terminal the logs are readable lines.
RUN_ENV := $(if $(HOST),SENTD_HOST=$(HOST)) $(if $(PORT),SENTD_PORT=$(PORT))
run: install
	$(RUN_ENV) $(BIN)/sentd init
	$(RUN_ENV) $(BIN)/sentd serve

## The whole test suite.
test: install
	$(BIN)/pytest

## The fast tier only (seconds): repositories and services on one rolled-back connection.
test-fast: install
	$(BIN)/pytest tests/fast

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider --noconftest tests/test_architecture.py

## Benchmarks (by hand; minutes): wrk against sentd, the floor app and the pipeline.
bench: install
	@command -v wrk >/dev/null || (apt-get install -y wrk || (apt-get update && apt-get install -y wrk))
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

## Sustained end to end (accept + dispatch + webhooks; the highest rate the backlog keeps up
## with) and the API's RSS soak: bench/sustained.py (BENCH_SUSTAINED_WINDOW_S, BENCH_SOAK_S, …).
bench-sustained: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.sustained

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
