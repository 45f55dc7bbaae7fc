# Two entry points (README): `make compare` runs the main job, `make test` the test suite.
# Each builds .venv on first use; the stamp is refreshed whenever the dependencies change.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: compare test smoke lint install publish clean-venv

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

compare: $(STAMP)
	$(BIN)/faceedit-bench compare --out runs/aurig-demo

test: $(STAMP)
	$(BIN)/python -m pytest

smoke: $(STAMP)
	$(BIN)/faceedit-bench compare --protocol aurig-smoke --out runs/aurig-smoke --device cpu

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Copy the default run's results, tables and PNG figures into reports/ and refresh the
# README's tables from them (see reports/README.md).
publish: $(STAMP)
	$(BIN)/python -m faceedit_bench.reports.publish runs/aurig-demo reports/aurig-demo --readme README.md

clean-venv:
	rm -rf $(VENV)
