# Two commands a newcomer needs: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test faults lint format bench mutation clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/partnerbot db upgrade
	$(BIN)/partnerbot run

test: $(STAMP)
	$(BIN)/ruff check bot tests bench migrations scripts
	$(BIN)/ruff format --check bot tests bench migrations scripts
	$(BIN)/lint-imports
	$(BIN)/bandit -q -c pyproject.toml -r bot
	$(BIN)/pytest -q

# The fault suite (tests/faults) at full size, on SQLite and on a throwaway PostgreSQL server (.ci/with-postgres;
# it uses TEST_DATABASE_URL instead when that is set). `make test` runs the same tests small.
faults: $(STAMP)
	.ci/with-postgres env PARTNERBOT_FAULTS=full $(BIN)/pytest -q -m faults tests/faults

format: $(STAMP)
	$(BIN)/ruff format bot tests bench migrations scripts
	$(BIN)/ruff check --fix bot tests bench migrations scripts

# Several minutes: every benchmark, each beside its anchor, into BENCHMARKS.md (with a throwaway PostgreSQL when one
# is installed and TEST_DATABASE_URL is not set). pandas, an anchor, comes from the bench extra.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.report

# Mutation testing of the policy modules (mutation/modules.toml): minutes, not part of `make test`.
# MUTATE="bot/schedule.py" limits it to the groups that mutate those files; FAIL_UNDER=90 fails below 90%.
MUTATE ?=
FAIL_UNDER ?= 0
mutation: $(STAMP)
	$(BIN)/python scripts/mutation.py --fail-under $(FAIL_UNDER) $(MUTATE)

clean:
	rm -rf $(VENV) var .pytest_cache
