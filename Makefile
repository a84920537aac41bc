# citytwin — every target does its own set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PKG_STAMP := $(VENV)/.package-installed
SHARED ?= ../shared/data
LINTED := citytwin tests bench packaging

.PHONY: run test lint bench fuzz sample package package-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,bench]"
	touch $(STAMP)

## make run: open citytwin on the bundled sample district
run: $(STAMP)
	$(PY) -m citytwin

## make test: lint, architecture contract and the whole test suite
test: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports

## make bench: run every benchmark and rewrite bench/RESULTS.md
bench: $(STAMP)
	$(PY) -m bench.run_all --shared $(SHARED)

## make fuzz: 10,000 mutated inputs per reader family (not in CI); writes bench/FUZZ.md
FUZZ_N ?= 10000
fuzz: $(STAMP)
	$(PY) -m tests.fuzz --n $(FUZZ_N) --jobs 2 --shared $(SHARED) --keep bench/out/fuzz --report bench/FUZZ.md

## make sample: regenerate the bundled sample district (deterministic)
sample: $(STAMP)
	$(PY) -m citytwin.sample --out assets/sample_district.city.json

$(PKG_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[package]"
	touch $(PKG_STAMP)

## make package: the installers for this OS into dist/ (Linux: .deb and .tar.xz; packaging/README.md)
package: $(PKG_STAMP)
	$(PY) packaging/build.py

## make package-test: build the package (or reuse dist/ when up to date), unpack the .deb and try the frozen
## app under Xvfb; writes bench/out/package.json and the Packaging section of bench/RESULTS.md. Not in make test.
package-test: $(PKG_STAMP)
	xvfb-run -a -s "-screen 0 1920x1080x24" $(PY) packaging/package_test.py --shared $(SHARED)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
