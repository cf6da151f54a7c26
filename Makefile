# A fresh clone needs only Python 3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ADAPTERS := $(sort $(dir $(wildcard adapters/*/pyproject.toml)))
STAMP := $(VENV)/.installed

.PHONY: install lint test demo bench clean

$(STAMP): pyproject.toml $(addsuffix pyproject.toml,$(ADAPTERS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev,dask,lca]' $(addprefix -e ,$(ADAPTERS))
	touch $@

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite runs on every core (pytest-xdist); a worker that runs out of tests takes some of
# another's (the docs' examples alone take minutes).
test: lint
	$(BIN)/python -m pytest -n auto --dist worksteal

demo: install
	$(BIN)/mns demo --out demo-output --overwrite

# Each benchmark runs mns and its competitor on the same data in the same run, and prints
# the ratio; the issue-sized runs (10M cases) are in each module's docstring.
BENCHMARKS := classify read convert analyses match statutory engines lca memory audit

bench: install
	for b in $(BENCHMARKS); do $(BIN)/python -m benchmarks.$$b || exit 1; done
	$(BIN)/python -m benchmarks.statutory --ssda903

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache .hypothesis
