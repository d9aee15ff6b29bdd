# Two entry points for a fresh machine: `make run` (the main job on demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test run bench bench-match venv clean

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

# The main job on the embedded on-disk store (var/store) with the demo catalogue.
run: $(STAMP)
	$(BIN)/maas-kg demo --providers 300 --seed 1
	$(BIN)/maas-kg info
	$(BIN)/maas-kg list --process "5-axis milling" --country DE
	$(BIN)/maas-kg match examples/products/turned-ground-shaft.json --top 3

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_catalogue.py

bench-match: $(STAMP)
	$(BIN)/python benchmarks/bench_matching.py --services 100000 --products 50

clean:
	rm -rf $(VENV) build dist *.egg-info var test-artifacts
