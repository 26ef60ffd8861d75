# servicestudy: one entry point. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH := 1669852800
export MPLBACKEND := Agg
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv lint test test-fast report data bench lock clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_.\/-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements/lock.txt pyproject.toml
	@echo ">> creating $(VENV) from requirements/lock.txt"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP) ## Create the environment from the lock file (nothing installed by hand)

lock: ## Re-resolve requirements/lock.txt from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --extra notebooks --extra dask --extra dev \
	  --python-version 3.11 --generate-hashes --no-header -o requirements/lock.txt
	uv pip compile pyproject.toml requirements/bench.in --extra notebooks --extra dask --extra dev \
	  --python-version 3.11 --generate-hashes --no-header -o requirements/bench-lock.txt

lint: $(STAMP) ## Run the linter
	$(BIN)/ruff check src tests bench notebooks

# two pytest workers on two cores: one BLAS thread each, or they oversubscribe the machine
test: lint ## Lint, then run the whole test suite and the doctests (warnings are errors)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -q

test-fast: $(STAMP) ## Run the tests that are not marked slow
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -q -m "not slow"

# --- the bundled SIMULATED wave (data/raw/README.md); regenerates byte for byte ---------------
WAVE1 := data/raw/servicestudy_wave1.xlsx
WAVE1_TRUTH := data/raw/servicestudy_wave1_truth.json
WAVE1_ARGS := --n 420 --seed 20220315 --out $(WAVE1) --truth $(WAVE1_TRUTH)
.PHONY: regenerate-data check-data verify

# data/raw is never rewritten implicitly (git checkouts give arbitrary mtimes): `make data`
# regenerates the wave into a temporary folder and checks it is byte-identical to the committed one.
data: check-data ## Regenerate the bundled simulated wave in a temp dir and check it is byte-identical

check-data: $(STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BIN)/python -m servicestudy simulate --n 420 --seed 20220315 --out $$tmp/w.xlsx --truth $$tmp/t.json && \
	  cmp $$tmp/w.xlsx $(WAVE1) && echo ">> $(WAVE1) regenerates byte for byte"

verify: $(STAMP) ## Check data/raw against its manifest of SHA-256 hashes
	$(BIN)/servicestudy verify data/raw

regenerate-data: $(STAMP) ## Rewrite data/raw/servicestudy_wave1* from the generator (then update data/raw/MANIFEST.sha256)
	$(BIN)/python -m servicestudy simulate $(WAVE1_ARGS)

# --- the report: prepared data -> notebooks -> results -> PDFs (docs/report.md) ----------------
# Real file targets: nothing is rebuilt when nothing changed; every step is deterministic.
REPORT_DIR := reports
PREPARED_DIR := data/processed/report
PREPARED := $(PREPARED_DIR)/prepared.json
REPORT_CODEBOOK := src/servicestudy/codebooks/k_station.yaml
REPORT_TEMPLATE := $(wildcard src/servicestudy/templates/*.typ)
PKG_SOURCES := $(shell find src/servicestudy -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort)
REPORT_STEP := $(BIN)/python -m servicestudy.report
RESULTS := $(addprefix $(REPORT_DIR)/results/,sample.json reliability.json satisfaction.json groups.json drivers.json text.json)
INTERVIEWS := $(sort $(wildcard data/raw/interviews/*))
REPORT_DATA := $(REPORT_DIR)/build/report_data.json
PDFS := $(REPORT_DIR)/report.pdf $(REPORT_DIR)/report_zh.pdf

report: $(PDFS) ## Run the pipeline and the notebooks; build reports/report.pdf (en) and report_zh.pdf (zh)
	@echo ">> report up to date: $(PDFS)"

$(PREPARED): $(WAVE1) $(REPORT_CODEBOOK) $(PKG_SOURCES) | $(STAMP)
	@echo ">> [1/4] read, code and screen $(WAVE1) -> $(PREPARED_DIR)"
	$(REPORT_STEP) prepare $(WAVE1) $(REPORT_CODEBOOK) $(PREPARED_DIR)

$(REPORT_DIR)/results/sample.json: notebooks/01-import-coding-screening.py $(PREPARED) $(PKG_SOURCES)
	@echo ">> [2/4] notebook $<"
	$(REPORT_STEP) notebook $< $(REPORT_DIR)

$(REPORT_DIR)/results/reliability.json: notebooks/02-reliability-validity.py $(PREPARED) $(PKG_SOURCES)
	@echo ">> [2/4] notebook $<"
	$(REPORT_STEP) notebook $< $(REPORT_DIR)

$(REPORT_DIR)/results/satisfaction.json $(REPORT_DIR)/results/groups.json &: notebooks/03-satisfaction-by-group.py $(PREPARED) $(PKG_SOURCES)
	@echo ">> [2/4] notebook $<"
	$(REPORT_STEP) notebook $< $(REPORT_DIR)

$(REPORT_DIR)/results/drivers.json: notebooks/04-drivers-ipa.py $(REPORT_DIR)/results/satisfaction.json $(PREPARED) $(PKG_SOURCES)
	@echo ">> [2/4] notebook $<"
	$(REPORT_STEP) notebook $< $(REPORT_DIR)

$(REPORT_DIR)/results/text.json: notebooks/06-open-answers-interviews.py $(PREPARED) $(INTERVIEWS) $(wildcard src/servicestudy/themes/*.yaml src/servicestudy/lexicon/*.txt) $(PKG_SOURCES)
	@echo ">> [2/4] notebook $<"
	$(REPORT_STEP) notebook $< $(REPORT_DIR)

$(REPORT_DATA): $(RESULTS) $(PREPARED)
	@echo ">> [3/4] collect results, provenance and findings -> $@"
	$(REPORT_STEP) collect $(REPORT_DIR) $(PREPARED_DIR)

$(REPORT_DIR)/report.pdf: $(REPORT_DATA) $(REPORT_TEMPLATE)
	@echo ">> [4/4] typeset $@"
	$(REPORT_STEP) pdf $(REPORT_DIR) en

$(REPORT_DIR)/report_zh.pdf: $(REPORT_DATA) $(REPORT_TEMPLATE)
	@echo ">> [4/4] typeset $@"
	$(REPORT_STEP) pdf $(REPORT_DIR) zh

# --- benchmarks: servicestudy and its peers side by side (bench/README.md) ---------------------
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_SIZES ?= 1000,10000,100000,1000000

$(BENCH_STAMP): requirements/bench-lock.txt pyproject.toml
	@echo ">> creating $(BENCH_VENV) (servicestudy + peers pingouin, factor_analyzer) from requirements/bench-lock.txt"
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements/bench-lock.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# one BLAS thread for every implementation (R here uses the single-threaded reference BLAS)
bench: $(BENCH_STAMP) ## Time every statistic against its peers (pingouin, factor_analyzer, R psych) in one run
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BENCH_VENV)/bin/python bench/run.py --sizes $(BENCH_SIZES)

clean: ## Remove build outputs (keeps data/raw and the environment)
	rm -rf data/processed/* reports/build .pytest_cache
