# fer_mm: the two commands of the README are `make demo` and `make test`.
# Both create / refresh the environment first (tools/setup_env.sh, idempotent).
VENV ?= .venv
PY := $(VENV)/bin/python
export FER_MM_VENV := $(abspath $(VENV))

.PHONY: setup demo test lint format

setup:
	bash tools/setup_env.sh

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" bash tools/demo.sh

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: lint
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m pytest tests
