# Two commands a newcomer needs: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/partnerbot db upgrade
	$(BIN)/partnerbot run

test: $(STAMP)
	$(BIN)/ruff check bot tests bench migrations
	$(BIN)/ruff format --check bot tests bench migrations
	$(BIN)/lint-imports
	$(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format bot tests bench migrations
	$(BIN)/ruff check --fix bot tests bench migrations

# Several minutes: every benchmark, each beside its anchor, into BENCHMARKS.md (with a throwaway PostgreSQL when one
# is installed and TEST_DATABASE_URL is not set). pandas, an anchor, comes from the bench extra.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.report

clean:
	rm -rf $(VENV) var .pytest_cache
