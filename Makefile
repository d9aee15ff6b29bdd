# Two entry points for a fresh machine: `make run` (the main job on demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test run venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when the project's dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

run: $(STAMP)
	$(BIN)/maas-kg check

clean:
	rm -rf $(VENV) build dist *.egg-info var test-artifacts
