# One command to run the playground, one to test it. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= localhost

.PHONY: run install install-test browsers vendor test lint bench clean

## make run: install everything the playground needs and start it
run: install
	$(BIN)/cors-playground serve --host $(HOST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

vendor: static/vendor/htmx.min.js

static/vendor/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/dist/ext/hx-sse.min.js static/vendor/
	touch $@

install: $(BIN)/python vendor
	$(BIN)/pip install --quiet .

install-test: $(BIN)/python vendor browsers
	$(BIN)/pip install --quiet -e '.[test]'

## browsers: Debian's chromium where apt exists; Playwright's own download elsewhere
browsers:
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM_PATH" ]; then \
	  echo "chromium: $$(command -v chromium || echo $$CHROMIUM_PATH)"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	else \
	  $(BIN)/python -m playwright install chromium; \
	fi

## make test: install everything (browser included) and run the whole suite
test: install-test
	$(BIN)/ruff check app tests
	$(BIN)/mypy app
	$(BIN)/pytest

bench: install-test
	$(BIN)/python -m tests.bench.bench_explain

clean:
	rm -rf $(VENV) node_modules static/vendor build dist
