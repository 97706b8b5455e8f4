# One command each: `make plans` (set up on first use, then build every plan, the comparison and
# the site index), `make test`, `make bench`. Only python3 (>= 3.10), git and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.yjplan-installed

.PHONY: setup plans test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -c "from pipeline.build import ensure_kernel; ensure_kernel()"
	touch $(STAMP)

setup: $(STAMP)

plans: $(STAMP)
	$(BIN)/yjplan build --all

# pytest exits 5 when it collects no test: that is a broken suite here, said plainly.
# Then a gate: the statistics and inspection-scoring modules must have no untested line or branch.
test: $(STAMP)
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) - the suite is missing"; exit 1; fi; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi
	$(BIN)/python -m pytest -q -p no:randomly tests/test_stats.py tests/test_inspection_scoring.py \
	  --cov=pipeline.analysis.stats --cov=pipeline.analysis.inspection --cov-branch --cov-report=term-missing --cov-fail-under=100

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf build _site .quarto
