# Two commands do all the set-up on a fresh machine:
#   make verify   set up .venv and run the verification suite (chen-luo-2025, profile ci)
#   make test     set up .venv and run the tests
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= ci
PAPER ?= chen-luo-2025

.PHONY: setup verify test lint

$(BIN)/twostage: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV) $(PY)

setup: $(BIN)/twostage

verify: setup
	$(BIN)/twostage verify --paper $(PAPER) --profile $(PROFILE) --json results/verify-$(PAPER).json

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: setup
	$(BIN)/ruff check .
