# stabkit: the two commands of the quick start are `make demo` and `make test`.
# Each creates .venv when it is missing and installs what it needs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(PY) -m pip
# PyTorch: a CPU wheel of this exact version is on the machine's disk; any other request downloads GBs.
TORCH  ?= torch==2.13.0
JOBS   ?= 2

.PHONY: demo test studies bench lint format typecheck clean venv install install-dev install-bench browser

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY)

$(VENV)/.installed-core: $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[report]"
	touch $@

$(VENV)/.installed-dev: $(PY) pyproject.toml
	$(PIP) install --quiet "$(TORCH)"
	$(PIP) install --quiet -e ".[dev,report,learn,dask,studies,sensitivity,sbml,integrations,represent-oracles]"
	touch $@ $(VENV)/.installed-core

$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(PIP) install --quiet -e ".[bench]"
	touch $@

install: $(VENV)/.installed-core
install-dev: $(VENV)/.installed-dev
install-bench: $(VENV)/.installed-bench

demo: $(VENV)/.installed-core
	$(BIN)/stabkit demo --out demo-report

# Two pytest workers share the two cores: one BLAS / OpenMP thread each, no oversubscription.
TEST_ENV := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# The `browser` tests render reports in headless Chromium (Debian's package); they are
# skipped where it cannot be installed.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  ( command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null ) || \
	  echo "chromium unavailable: the browser tests will be skipped"

test: $(VENV)/.installed-dev browser
	$(TEST_ENV) $(BIN)/pytest -n $(JOBS) -q

studies: $(VENV)/.installed-dev
	$(BIN)/stabkit study all --full --out studies-report

BENCHES := ensemble continuation lyapunov basins ssa curvature sweep represent chaos

bench: $(VENV)/.installed-bench
	for b in $(BENCHES); do $(PY) bench/$$b.py || exit 1; done
	$(PY) bench/assemble.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-report studies-report
