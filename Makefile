# Two entry points (README): `make compare` runs the main job, `make test` the test suite.
# Each builds .venv on first use; the stamp is refreshed whenever the dependencies change.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: compare test smoke lint docs install publish clean-venv

# pyproject.toml holds ranges; constraints.txt the exact versions the numbers were measured with.
$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch torchvision
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,docs]'
	touch $(STAMP)

install: $(STAMP)

compare: $(STAMP)
	$(BIN)/faceedit-bench compare --out runs/aurig-demo --allow-mixed-supervision

test: $(STAMP)
	$(BIN)/python -m pytest

smoke: $(STAMP)
	$(BIN)/faceedit-bench compare --protocol aurig-smoke --out runs/aurig-smoke --device cpu --allow-mixed-supervision

# The documentation site (docs/, mkdocs.yml); --strict fails on broken links and references.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Copy the default run's results, tables and PNG figures into reports/ and refresh the
# README's tables from them (see reports/README.md).
publish: $(STAMP)
	$(BIN)/python -m faceedit_bench.reports.publish runs/aurig-demo reports/aurig-demo --readme README.md

clean-venv:
	rm -rf $(VENV)
