# citytwin — every target does its own set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SHARED ?= ../shared/data

.PHONY: run test lint bench fuzz sample clean

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
	$(VENV)/bin/ruff check citytwin tests bench
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check citytwin tests bench
	$(VENV)/bin/ruff format --check citytwin tests bench
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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
