# Two commands for a newcomer: `make serve` (install, then start on embedded defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

JS_CLIENT := tests/clients/js
JS_INSTALLED := $(JS_CLIENT)/node_modules/.installed

.PHONY: install serve test lint bench models clean clients browser

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

# Debian's headless Chromium for the console's browser tests (tests/console), which Playwright drives through its
# executable_path: browsers are never downloaded. Where it cannot be installed (no apt, not root), those tests skip,
# each saying why.
browser:
	@if [ -x /usr/bin/chromium ]; then \
		/usr/bin/chromium --version 2> /dev/null; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y chromium || (apt-get update && apt-get install -y chromium) \
			|| echo "browser tests will SKIP: apt-get could not install chromium"; \
	else \
		echo "browser tests will SKIP: no /usr/bin/chromium, and apt-get is unavailable or this is not root"; \
	fi

# Without ../shared/data the data tests skip, each with its reason; REKO_REQUIRE_DATA=1 (set by .ci/run) fails them.
test: install lint clients browser
	$(BIN)/python -m pytest -q

# The AWS SDK for JavaScript v3 of the independent-clients test (tests/clients), from the committed lock file.
# Without npm its test skips here and fails in CI (REKO_REQUIRE_CLIENTS=1, set by .ci/run).
clients: $(JS_INSTALLED)

$(JS_INSTALLED): $(JS_CLIENT)/package.json $(JS_CLIENT)/package-lock.json
	@if command -v npm > /dev/null; then \
		npm ci --prefix $(JS_CLIENT) --no-audit --no-fund && touch $(JS_INSTALLED); \
	else echo "npm not found: the JS SDK client test will skip (and fail under REKO_REQUIRE_CLIENTS=1)"; fi

bench: install
	$(BIN)/python -m pip install -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) reko-data .pytest_cache .mypy_cache .ruff_cache $(JS_CLIENT)/node_modules
