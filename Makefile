# Entry points: `make demo` (JupyterLab on notebooks/) and `make test` (what CI runs).
#
# Every step leaves a stamp in .build/ (or is its own output), so a re-run redoes only what
# changed. The tests run against the real wheel, installed into .venv like a user's install:
# JS sources -> syncstate/labextension -> dist/*.whl -> .venv.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := test

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMPS := .build
CHROMIUM := /usr/bin/chromium

# jlpm, jupyter, ruff, mypy and pytest all come from the venv.
export PATH := $(BIN):$(PATH)

JS_SOURCES := $(shell find js/src js/style -type f) js/package.json js/tsconfig.json
PY_SOURCES := $(shell find syncstate -name '*.py') pyproject.toml install.json jupyter-config/jupyter_nbconvert_config.json $(wildcard README.md)
LABEXTENSION := syncstate/labextension/package.json

.PHONY: setup demo test chromium clean

# Everything the tests need; the demo needs only the wheel and its own few packages.
setup: $(STAMPS)/wheel $(STAMPS)/test-deps $(STAMPS)/lite chromium

demo: $(STAMPS)/wheel
	jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

test: setup
	ruff check .
	mypy
	cd js && jlpm typecheck
	pytest tests/
	cd js && jlpm test
	sphinx-build -W --keep-going -q -b html docs docs/_build/html

$(PY):
	python3 -m venv $(VENV)

# Build requirements, runtime dependencies and the demo's extra (JupyterLab, numpy).
$(STAMPS)/python-deps: pyproject.toml tools/requirements.py | $(PY)
	@mkdir -p $(STAMPS)
	$(PIP) install 'tomli; python_version < "3.11"'
	$(PY) tools/requirements.py demo > $(STAMPS)/requirements.txt
	$(PIP) install -r $(STAMPS)/requirements.txt
	touch $@

$(STAMPS)/test-deps: $(STAMPS)/python-deps
	$(PY) tools/requirements.py test dev > $(STAMPS)/test-requirements.txt
	$(PIP) install -r $(STAMPS)/test-requirements.txt
	touch $@

# On CI (CI=true) jlpm refuses to change yarn.lock: the committed lock must match package.json.
$(STAMPS)/js-deps: js/package.json js/yarn.lock $(STAMPS)/python-deps
	cd js && jlpm install
	touch $@

$(LABEXTENSION): $(JS_SOURCES) $(STAMPS)/js-deps
	cd js && jlpm build:prod
	touch $@

# No build isolation: the build requirements are in the venv, and the extension is built above
# (the wheel's build hook skips the JS build when the built extension exists).
$(STAMPS)/wheel: $(LABEXTENSION) $(PY_SOURCES) $(STAMPS)/python-deps
	rm -rf dist
	$(PIP) wheel --no-deps --no-build-isolation -w dist .
	$(PIP) install --force-reinstall --no-deps dist/syncstate-*.whl
	touch $@

# JupyterLite for the browser tests: a venv of its own (the Pyodide kernel's labextension is for
# JupyterLite, not for the JupyterLab the other tests run), and a folder that `jupyter lite
# build` makes a site of that fetches nothing (tools/lite_site.py).
LITE_VENV := $(STAMPS)/lite-venv
$(STAMPS)/lite: $(STAMPS)/wheel $(STAMPS)/js-deps tools/lite_site.py
	[ -x $(LITE_VENV)/bin/python ] || python3 -m venv $(LITE_VENV)
	wheel=$$(ls dist/syncstate-*.whl) && \
	$(LITE_VENV)/bin/pip install --disable-pip-version-check "$$wheel[lite]" && \
	$(LITE_VENV)/bin/pip install --disable-pip-version-check --force-reinstall --no-deps "$$wheel" && \
	$(LITE_VENV)/bin/python tools/lite_site.py $(STAMPS)/lite-dir js/node_modules/pyodide "$$wheel"
	touch $@

# The browser tests drive Debian's chromium (Playwright's own browser downloads are not used).
chromium:
	@if [ -x $(CHROMIUM) ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "warning: $(CHROMIUM) is missing, so the browser tests will fail." >&2; \
		echo "Install it as root: apt-get update && apt-get install -y chromium" >&2; \
	fi

clean:
	rm -rf $(STAMPS) dist js/lib js/tsconfig.tsbuildinfo syncstate/labextension syncstate/static
