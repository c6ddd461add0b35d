# Two commands a user needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast lint bench clean-venv

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py $(ARGS)

# everything: lint, types, then every test (model tests included)
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests

# the fast tier: no FaceNet/MTCNN weights loaded, runs in seconds
test-fast: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not model" tests

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) main.py bench $(ARGS)

clean-venv:
	rm -rf $(VENV)
