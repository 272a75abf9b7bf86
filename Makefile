# LiqWatch: quick start is `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench dist clean check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m liqwatch $(ARGS)

check: $(STAMP)
	$(BIN)/python -m liqwatch check resources/examples/portfolio.toml --format table; true

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks.run

dist: $(STAMP)
	$(BIN)/python -m pip install build >/dev/null
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache
