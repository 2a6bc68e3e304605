# Two commands on a fresh machine: `make demo` (offline run + scores + report) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
SDI := $(VENV)/bin/sdi
RUNS ?= runs

.PHONY: install demo test lint browser actionlint screenshots clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	@run_dir=$$($(SDI) run suites/smoke.yaml --runs-dir $(RUNS) | tail -n 1) && \
	$(SDI) score "$$run_dir" --format table && \
	$(SDI) regrade "$$run_dir" --samples 3 -q >/dev/null && \
	$(SDI) consistency "$$run_dir" && \
	$(SDI) report "$$run_dir" -o reports/smoke.html && \
	echo "$$run_dir"

browser:
	bash scripts/ensure-chromium.sh

actionlint:
	bash scripts/ensure-actionlint.sh

# reports/{single,comparison,gate,comparison-400}.png from offline synthetic runs
screenshots: install browser
	$(PY) scripts/report_screenshots.py

test: install browser actionlint
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check harness tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
