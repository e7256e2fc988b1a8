# Two commands do all set-up on a fresh machine:
#   make lab   - create .venv, install, open JupyterLab on the lessons (127.0.0.1)
#   make test  - create .venv if needed, install, run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterHub's proxy, from npm, for the hub test (tests/test_hub.py): project-local.
PROXY_VERSION := 5.3.0
PROXY  := $(VENV)/node_modules/.bin/configurable-http-proxy

.PHONY: lab test install bench lint present clean binder-check lessons site links

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "marginlab needs Python >= 3.11 (set PYTHON=python3.11)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The Voila templates and settings are installed as data files (copies): reinstall when
# they change, so a plain `voila` serves what the repository holds.
DATA_FILES := $(shell find marginlab/serve_assets/voila jupyter-config -type f 2>/dev/null)

$(STAMP): $(BIN)/python pyproject.toml binder/requirements.txt requirements-test.txt hatch_build.py $(DATA_FILES)
	$(BIN)/python -m pip install --quiet -r binder/requirements.txt -r requirements-test.txt -e ".[lab,test,site]"
	@touch $(STAMP)

# Without npm the hub test skips (CI installs npm first and makes the test mandatory).
$(PROXY): | $(BIN)/python
	@if command -v npm >/dev/null 2>&1; then \
		npm install --prefix $(VENV) --no-save --no-audit --no-fund --loglevel=error \
			configurable-http-proxy@$(PROXY_VERSION); \
	else \
		echo "npm not found: the JupyterHub test will skip (apt-get install npm)"; \
	fi

install: $(STAMP) $(PROXY)

# JupyterLab refuses to run as root unless told; containers often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/marginlab lab $(ROOT_FLAG)

present: $(STAMP)
	$(BIN)/marginlab present

test: $(STAMP) $(PROXY)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Lessons are written as MyST Markdown (lessons/*.md); learners open the generated .ipynb.
lessons: $(STAMP)
	$(BIN)/python tools/lessons.py

# The course as a static site in _build/html/ (every lesson executed; needs npm for MathJax).
site: $(STAMP)
	$(BIN)/python tools/site.py

# Rewrite the README's Binder links from pyproject.toml's [project.urls] Repository.
links:
	$(PYTHON) tools/launch_links.py

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Binder's environment alone (binder/requirements.txt + postBuild) runs every lesson.
binder-check:
	bash tools/binder_check.sh

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts _build
