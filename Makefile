# fer_mm: the two commands of the README are `make demo` and `make test`.
# Both create / refresh the environment first (tools/setup_env.sh, idempotent):
# the demo needs only the classification stack (`core`: no compiled mmcv ops),
# the tests need everything (`full`: mmcv ops built once and cached, mmagic).
VENV ?= .venv
PY := $(VENV)/bin/python
export FER_MM_VENV := $(abspath $(VENV))
RUN := PATH="$(abspath $(VENV))/bin:$$PATH"

.PHONY: setup setup-core demo test test-fast lint format docs

setup:
	bash tools/setup_env.sh full

setup-core:
	bash tools/setup_env.sh core

demo: setup-core
	$(RUN) bash tools/demo.sh

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Everything, the slow subprocess / DDP tests included (what CI runs).
test: lint
	$(RUN) $(PY) -m pytest tests

# Development loop: skips the tests marked slow.
test-fast: setup
	$(RUN) $(PY) -m pytest tests -m "not slow"

# The documentation (docs/en, Sphinx; warnings are errors, as in the docs test).
docs: setup
	$(RUN) $(PY) -m sphinx -W --keep-going -b html docs/en docs/en/_build/html
