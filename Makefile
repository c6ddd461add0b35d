# Two commands a user needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

.PHONY: run test test-fast lint bench clean-venv postgres-server

# the runtime (requirements.txt) for `make run`; the test and lint tools on top for `make test`
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DEV): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV)

run: $(STAMP)
	$(PY) main.py $(ARGS)

# The shared-store tests start a private PostgreSQL server with the machine's server
# programs; install Debian's package when they are missing and we may (root + apt-get).
postgres-server:
	@$(PYTHON) -c "import glob, shutil, sys; sys.exit(not (shutil.which('initdb') or glob.glob('/usr/lib/postgresql/*/bin/initdb')))" \
	|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	     && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
	     || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }; } \
	|| echo "PostgreSQL server programs not installed: the shared-store tests will skip"

# everything: lint, types, the import contract, then every test (model tests included)
test: lint postgres-server
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests

# the fast tier: no FaceNet/MTCNN weights loaded, runs in seconds
test-fast: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not model" tests

lint: $(DEV)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) main.py bench $(ARGS)

clean-venv:
	rm -rf $(VENV)
