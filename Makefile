# Two commands a newcomer needs: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench mutation clean

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
	$(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format bot tests bench migrations scripts
	$(BIN)/ruff check --fix bot tests bench migrations scripts

bench: $(STAMP)
	$(BIN)/python -m bench

# Mutation testing of the policy modules (mutation/modules.toml): minutes, not part of `make test`.
# MUTATE="bot/schedule.py" limits it to the groups that mutate those files; FAIL_UNDER=90 fails below 90%.
MUTATE ?=
FAIL_UNDER ?= 0
mutation: $(STAMP)
	$(BIN)/python scripts/mutation.py --fail-under $(FAIL_UNDER) $(MUTATE)

clean:
	rm -rf $(VENV) var .pytest_cache
