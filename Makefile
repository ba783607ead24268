# medspa: `make run` starts the app, `make test` runs every test. Both install what they
# need first (idempotent: pip only when pyproject.toml changed, bun only when missing).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.medspa-installed
BUN := tools/node_modules/.bin/bun
BUN_VERSION := 1.4.4

.PHONY: run test bench install deps-test ci clean-web help

help:
	@echo "make run    install if needed, then start the app on http://localhost:$${PORT:-3000}"
	@echo "make test   install if needed (+ chromium, redis-server), then run all tests"
	@echo "make bench  run the bench/*.py scripts"

run: install
	$(VENV)/bin/medspa serve

# The service tests in parallel (each pytest-xdist worker has its own database), then the
# browser tests in one process (they build the app once and share it).
TEST_WORKERS ?= 2
test: install deps-test
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not browser" --durations=25
	$(VENV)/bin/pytest -q -m browser --durations=15

bench: install
	@set -e; shopt -s nullglob; scripts=(bench/[!_]*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no bench scripts yet"; fi; \
	for s in "$${scripts[@]}"; do echo "== $$s"; $(PY) "$$s"; done

ci:
	.ci/run

install: $(STAMP) $(BUN)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

$(BUN):
	npm i --prefix tools --no-audit --no-fund bun@$(BUN_VERSION)
	@test -x $@

# Test-only system packages from Debian: Chromium for Playwright, redis-server for the
# multi-worker tests (they start their own on a free port). Never `playwright install`.
deps-test:
	@missing=""; \
	command -v /usr/bin/chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing from Debian"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "install them with: sudo apt-get install -y$$missing   (then run make test again)"; \
	    exit 1; \
	  fi; \
	fi

# throw away the compiled frontends (they rebuild at the next start)
clean-web:
	rm -rf .web var/browser-test/app
