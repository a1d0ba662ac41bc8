# gendiff: `make study` sets up and runs the study (default profile, refreshes notebooks/*.ipynb);
#          `make test`  sets up and runs every test (pytest + nbval of every notebook at the smoke profile).
# Both are idempotent: set-up is skipped while .venv is newer than pyproject.toml.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gendiff-installed
CI_RUNS := $(CURDIR)/runs/ci

# Jupyter, IPython, matplotlib and caches live inside the project, never in $HOME; offline and headless.
export MPLBACKEND := Agg
export HF_HUB_OFFLINE := 1
export JUPYTER_CONFIG_DIR := $(CURDIR)/.state/jupyter/config
export JUPYTER_DATA_DIR := $(CURDIR)/.state/jupyter/data
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.state/jupyter/runtime
export JUPYTER_PLATFORM_DIRS := 1
export IPYTHONDIR := $(CURDIR)/.state/ipython
export MPLCONFIGDIR := $(CURDIR)/.state/matplotlib
export XDG_CACHE_HOME := $(CURDIR)/.state/cache
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: setup study test unit notebooks sync bench gpu-check lab site clean

setup: $(STAMP)

# torch==2.13.0 first (the local CPU wheel; never the multi-GB CUDA build), then the package with dev extras.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	@mkdir -p .state && touch $@

# The study's nets first, as one plan (every distinct net once), then the notebooks warm; notebook 12 trains the nets
# its adaptive walk reaches itself. One process by default: on a 2-core machine two single-threaded Dask workers
# took 0.70x the speed (2026-12-06, c = 16 at 368 img/s; bench/bench_train_plan.py) and about 0.5x (2026-12-07,
# 784 img/s together against 1459-1698 for one process; docs/running.md); STUDY_WORKERS=N uses N workers.
STUDY_WORKERS ?=
study: setup
	$(PY) -m gendiff train --profile default $(if $(STUDY_WORKERS),--workers $(STUDY_WORKERS))
	$(PY) -m gendiff run --profile default --refresh
	$(PY) -m gendiff ledger --update-readme

# Tests and notebooks run on TEST_WORKERS pytest-xdist processes (one CPU thread each; a notebook's cells stay
# together on one worker); the ledger notebook 00_index reads every other notebook's results, so it runs after them.
TEST_WORKERS ?= auto
test: setup
	rm -rf $(CI_RUNS)
	$(PY) -m gendiff run --profile smoke --prepare-only --out $(CI_RUNS)/notebooks --results $(CI_RUNS)/results \
	  --no-progress
	GENDIFF_CACHE=$(CI_RUNS)/cache OMP_NUM_THREADS=1 $(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) \
	  --dist loadfile --durations=15 tests $$(ls $(CI_RUNS)/notebooks/[0-9]*.ipynb | grep -v 00_index) --nbval-lax
	GENDIFF_CACHE=$(CI_RUNS)/cache $(PY) -m pytest -p no:cacheprovider $(CI_RUNS)/notebooks/00_index.ipynb --nbval-lax
	GENDIFF_CACHE=$(CI_RUNS)/cache $(PY) -m gendiff plan --profile smoke --check

unit: setup
	$(PY) -m pytest -q tests

sync:
	$(PY) -m jupytext --sync notebooks/[0-9]*.py

bench: setup
	$(PY) bench/bench_empirical.py
	$(PY) bench/bench_training.py
	$(PY) bench/bench_pspc.py --heatmaps
	$(PY) bench/bench_study_cost.py
	$(PY) bench/bench_train_plan.py

# The library's hot paths on a CUDA GPU against this machine's CPU (ratios, and agreement); skips cleanly without CUDA.
gpu-check: setup
	$(PY) bench/gpu_check.py

# JupyterLab opens the .py sources as notebooks (jupytext's viewer as the default for Python files).
LAB_SETTINGS := $(JUPYTER_CONFIG_DIR)/lab/user-settings/@jupyterlab/docmanager-extension
lab: setup
	@mkdir -p "$(LAB_SETTINGS)"
	@echo '{"defaultViewers": {"python": "Jupytext Notebook"}}' > "$(LAB_SETTINGS)/plugin.jupyterlab-settings"
	$(PY) -m jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# The rendered study: a static HTML book of the committed notebooks in runs/site/html (never re-executed).
site: setup
	$(PY) -m gendiff site

clean:
	rm -rf runs .state
