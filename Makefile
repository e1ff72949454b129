# Encoder–Decoder Companion — `make lab` to explore, `make test` to check everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Which torch to install. Machines that keep a CPU wheel of torch in pip's find-links folder
# (/opt/wheels: our development and CI machines) use that wheel; elsewhere pip picks the normal
# build for your platform. Override, e.g.: make lab TORCH_SPEC="torch==2.5.1"
LOCAL_TORCH := $(firstword $(wildcard /opt/wheels/torch-*+cpu-*.whl))
TORCH_SPEC ?= $(if $(LOCAL_TORCH),torch==$(word 2,$(subst -, ,$(notdir $(LOCAL_TORCH)))),torch>=2.2)
PYTEST_ARGS ?=
NOTEBOOK_ARGS ?=

.PHONY: help venv lab test test-unit test-notebooks run-notebooks smoke check lint clean translate

help:
	@echo "make lab             set up .venv for students (first time) and open JupyterLab on notebooks/"
	@echo "make test            set up .venv (first time), lint, then unit tests + every notebook"
	@echo "make test-unit       only the unit tests of companion/"
	@echo "make run-notebooks   execute every notebook with default parameters (build/executed/)"
	@echo "make smoke           execute every notebook in smoke mode"
	@echo "make check           notebook hygiene (no outputs, metadata, header cells)"
	@echo "make lint            ruff (lint + format check) and mypy on the package"
	@echo "make translate       update the Chinese catalogs from the English, write notebooks/zh/ and README.zh-CN.md"
	@echo "make slides          execute every notebook and export offline reveal.js slides (SMOKE=1: fast)"
	@echo "make site            executed notebooks as offline HTML pages + slides + front page (SMOKE=1: fast)"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Two stamps: students get the `lab` extra only; tests and tools need `dev` (which includes lab).
$(VENV)/.installed-lab: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name companion --display-name "Python (companion)" >/dev/null
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-lab
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed-dev

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

# lint first: ruff takes a second and mypy a few, so a style or type error fails before the suite
# --dist loadgroup keeps each xdist_group (the install venv, the built test site) on one worker;
# --durations=10 prints the ten slowest tests at the end, so the next slowdown is visible.
test: venv lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=10 $(PYTEST_ARGS)

test-unit: venv
	$(BIN)/python -m pytest -n 2 -m "not notebook and not browser" $(PYTEST_ARGS)

test-notebooks: venv
	$(BIN)/python -m pytest -n 2 -m notebook $(PYTEST_ARGS)

run-notebooks: venv
	$(BIN)/python -m companion.notebooks run $(NOTEBOOK_ARGS)

smoke: venv
	$(BIN)/python -m companion.notebooks run --smoke $(NOTEBOOK_ARGS)

check: venv
	$(BIN)/python -m companion.notebooks check

translate: venv
	$(BIN)/python -m companion.notebooks translate

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf build .pytest_cache

# ---- lecture slides and the offline site (tools/site.py). SMOKE=1: execute notebooks in smoke
# mode (fast); default: full parameters. SITE_ARGS: more options, e.g. SITE_ARGS="5.1 --no-execute".
SMOKE ?=
SITE_ARGS ?=
SITE_FLAGS := $(if $(filter 1 yes true,$(SMOKE)),--smoke,) $(SITE_ARGS)
.PHONY: slides site

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

slides: venv node_modules/.package-lock.json
	$(BIN)/python -m tools.site slides $(SITE_FLAGS)

site: venv node_modules/.package-lock.json
	$(BIN)/python -m tools.site site $(SITE_FLAGS)
