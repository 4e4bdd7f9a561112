# Two commands on a fresh Linux machine with Python 3.11:
#   make demo   set up, then generate, grade the bundled example submissions and print the table
#   make test   set up, then lint, type-check and run the whole test suite
# For developers: make test-fast (unit tests, under a minute, no sandbox or server), make lint.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs helper programs (alembic) found on PATH: use the venv's.
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: setup sandbox browser postgres demo lint test test-fast release bench clean

setup: $(VENV)/.installed sandbox browser postgres

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian packages the kit needs beyond Python, installed when we are root (as in CI):
# $(call apt_install,command,package,why,what happens without it)
define apt_install
	@if command -v $(1) >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing $(2) $(3)"; \
		apt-get install -y -qq $(2) >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null && apt-get install -y -qq $(2) >/dev/null; }; \
	else \
		echo "WARNING: $(2) is missing and cannot be installed here (needs root and apt-get):"; \
		echo "WARNING: $(4)"; \
	fi
endef

sandbox:
	$(call apt_install,bwrap,bubblewrap,for the grading sandbox,grading will run student code WITHOUT the sandbox (see README: Sandbox).)

browser:
	$(call apt_install,chromium,chromium,for the tests that open pages in a headless browser,those tests will be skipped.)

# Debian keeps the server binaries off PATH: `command -v` on the glob finds them. The tests start
# their own throw-away server with them (tests/postgres.py); nothing uses a system service.
postgres:
	$(call apt_install,/usr/lib/postgresql/*/bin/pg_ctl,postgresql,for the tests of a PostgreSQL gradebook,those tests will fail (they need a real server).)

demo: setup
	$(RUN) $(BIN)/catkit demo

# ruff (style, bugs, imports) and mypy (types) over the kit, its tests, benchmarks and scripts.
lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

# pytest's exit status 5 (no test collected) is an error, never a pass.
PYTEST = status=$$?; if [ $$status -eq 5 ]; then echo "ERROR: pytest collected no tests"; exit 1; fi; exit $$status

# Two test processes, a test file each at a time (a file's fixtures are made once): most tests wait on
# nbgrader and sandboxes in other processes, so two keep both cores busy (about 10 min instead of 20).
test: setup lint
	@$(RUN) $(BIN)/python -m pytest -n 2 --dist loadfile --durations=15; $(PYTEST)

# The unit tests alone: no nbgrader command, sandbox, server or browser (tests/conftest.py refuses
# to start a process in this tier, so a slow test that lost its marker shows at once).
FAST = not slow and not root and not postgres and not dask and not browser
test-fast: $(VENV)/.installed
	@CATKIT_TEST_TIER=fast $(RUN) $(BIN)/python -m pytest -q -m "$(FAST)"; $(PYTEST)

# Regenerate the committed student version and the example submissions from source/.
release: setup
	for assignment in $$(ls source); do $(RUN) $(BIN)/nbgrader generate_assignment $$assignment --force || exit 1; done
	$(RUN) $(BIN)/catkit examples

# make bench ARGS=--dask: one nbgrader vs a local Dask cluster of 1 and 2 workers (PostgreSQL gradebook)
bench: setup
	$(RUN) $(BIN)/python benchmarks/grading_time.py $(ARGS)
	$(RUN) $(BIN)/python benchmarks/similarity_time.py
	$(RUN) $(BIN)/python benchmarks/serve_latency.py

clean:
	rm -rf submitted feedback exports gradebook.db; find autograded -mindepth 1 ! -name README.md -delete
