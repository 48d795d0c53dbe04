# `make run` launches the app on the embedded sample; `make test` runs the whole suite (what CI runs);
# `make test-fast` leaves out the browser tests and the slow ones, for quick feedback while developing.
# Both create or reuse .venv. torch is installed first, pinned, so pip takes the local CPU wheel
# instead of pulling a multi-GB CUDA build.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export OPENBLAS_NUM_THREADS := 1

.PHONY: run test test-fast lint chromium sample docs

run: $(STAMP)
	$(BIN)/streamlit run app.py

# two test workers on two cores: one OpenMP thread each (measured: K-Means 1.8 s -> 0.2 s on a busy machine)
test: export OMP_NUM_THREADS := 1
test: $(STAMP) chromium lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: export OMP_NUM_THREADS := 1
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not browser and not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# pip byte-compiles on one core (86 of 156 s of a fresh install here); compileall does it on both (53 s). Some
# packages ship files for other Python versions that do not compile: pip skips them too, hence the `|| true`.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile torch==2.13.0
	$(BIN)/pip install --quiet --no-compile -e '.[dev,spark]'
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
	touch $@

# Browser tests drive Debian's Chromium; Playwright never downloads a browser.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

sample: $(STAMP)
	$(BIN)/python -m segmentation.synthetic --out data/sample_transactions.csv.gz --truth data/sample_truth.csv

docs: $(STAMP)
	$(BIN)/segment features --docs > docs/features.md
