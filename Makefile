# Two commands for a newcomer: `make serve` (install, then start on embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install serve test lint bench models clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	$(BIN)/reko models > /dev/null  # verifies every checksum and prepares the model cache
	touch $(INSTALLED)

serve: install
	$(BIN)/reko serve

models: install
	$(BIN)/reko models

lint: install
	$(BIN)/ruff check reko tests bench scripts
	$(BIN)/mypy

# Without ../shared/data the data tests skip, each with its reason; REKO_REQUIRE_DATA=1 (set by .ci/run) fails them.
test: install lint
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m pip install -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) reko-data .pytest_cache .mypy_cache .ruff_cache
