# Two entry points for a fresh machine: `make run` (the main job on demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser of its own)
CHROMIUM ?= /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test run bench bench-match bench-index bench-pages bench-sparql bench-scale bench-execution bench-resilience venv browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when the project's dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser tests need Chromium at $(CHROMIUM): install it (Debian: apt-get install chromium)"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

browser: $(CHROMIUM)

# Debian's Virtuoso 7 for the remote-store tests against a second server family (the tests start it themselves)
VIRTUOSO ?= /usr/bin/virtuoso-t

$(VIRTUOSO):
	@command -v apt-get >/dev/null || { echo "the Virtuoso tests need $(VIRTUOSO): install virtuoso-opensource"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq virtuoso-opensource

# axe-core (npm, pinned by tests/axe/package-lock.json) for the accessibility check of every page
AXE := tests/axe/node_modules/axe-core/axe.min.js

$(AXE): tests/axe/package-lock.json
	@command -v npm >/dev/null || { command -v apt-get >/dev/null && $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; } || { echo "the accessibility tests need npm (Debian: apt-get install npm)"; exit 1; }
	npm ci --prefix tests/axe --no-audit --no-fund --silent
	touch $(AXE)

# three.js (npm, pinned by api/vendor/package-lock.json) for the 3D preview of a CAD file on /matching: the
# application serves it from api/vendor/node_modules (/vendor/three/...), never from a CDN
THREE := api/vendor/node_modules/three/build/three.module.js

$(THREE): api/vendor/package-lock.json
	@command -v npm >/dev/null || { command -v apt-get >/dev/null && $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; } || { echo "the CAD preview needs npm (Debian: apt-get install npm)"; exit 1; }
	npm ci --prefix api/vendor --no-audit --no-fund --silent
	touch $(THREE)

test: $(STAMP) $(CHROMIUM) $(VIRTUOSO) $(AXE) $(THREE)
	MAAS_KG_CHROMIUM=$(CHROMIUM) MAAS_KG_AXE=$(AXE) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The main job on the embedded on-disk store (var/store) with the demo catalogue: fill it, show a match, then serve
# the HTTP service (REST API, SPARQL endpoint, docs) on 127.0.0.1:8080 until Ctrl-C.
run: $(STAMP) $(THREE)
	$(BIN)/maas-kg demo --providers 300 --seed 1
	$(BIN)/maas-kg info
	$(BIN)/maas-kg match examples/products/turned-ground-shaft.json --top 3
	$(BIN)/maas-kg match examples/cad/milled-bracket.step --material "EN AW-6082" --quantity 20 --top 3
	@echo "MaaS-KG on http://127.0.0.1:8080 (web pages: /, API docs: /docs, SPARQL: /sparql, health: /health); Ctrl-C stops it"
	$(BIN)/maas-kg serve --host 127.0.0.1 --port 8080

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_catalogue.py

bench-match: $(STAMP)
	$(BIN)/python benchmarks/bench_matching.py --services 100000 --products 50

# the match index against the SPARQL reference on the same store and products (see the README's Benchmarks)
bench-index: $(STAMP)
	$(BIN)/python benchmarks/bench_index.py --services 100000 --products 50 --reference-products 10
	$(BIN)/python benchmarks/bench_index.py --services 100000 --products 50 --tile 10
	$(BIN)/python benchmarks/bench_index.py --services 100000 --clients 50 --seconds 60
	$(BIN)/python benchmarks/bench_index.py --publish 5000

bench-pages: $(STAMP)
	$(BIN)/python benchmarks/bench_pages.py --store var/bench/matching-100000
	$(BIN)/python benchmarks/bench_pages.py --store var/bench/matching-100000 --requests --repeats 20 --baseline-repeats 1 --clients 8 --seconds 30

bench-sparql: $(STAMP)
	$(BIN)/python benchmarks/bench_sparql.py --services 10000 --repeats 30

bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py --sizes 1000,10000,100000 --products 50

# the stage-3 ledger: inbox, request, offer comparison, timeline and order lists on 10,000 orders / 100,000 events,
# and the write transitions; --index measures the reads again with an index on rfqs (inquiry, created)
bench-execution: $(STAMP)
	$(BIN)/python benchmarks/bench_execution.py --orders 10000 --events 100000

# a 50-product value chain against the 100,000-service store of bench-match: assess (10 events, 10,000 runs), respond
bench-resilience: $(STAMP)
	$(BIN)/python benchmarks/bench_resilience.py --store var/bench/matching-100000 --repeats 3

clean:
	rm -rf $(VENV) build dist *.egg-info var test-artifacts
