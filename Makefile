# The README's commands. Each one sets up what it needs first (idempotent, fast the second time).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEBS   := chromium poppler-utils libharfbuzz-subset0 fonts-dejavu-core postgresql redis-server
OUT    ?= demo-output

.PHONY: demo test test-fast bench bench-import bench-metrics bench-report bench-web lint setup system-deps sample clean

demo: setup  ## run the whole engagement on sample_engagement/ and write the PDF reports
	$(BIN)/assess demo --out $(OUT)

test: setup  ## run the whole test suite
	$(BIN)/pytest -q

test-fast: setup  ## the suite without the slow PDF/browser tests
	$(BIN)/pytest -q -m "not slow"

bench: setup  ## benchmarks (figures for the closing notes)
	$(BIN)/python benchmarks/run.py

bench-metrics: setup  ## metrics benchmark: all metrics over 1,000,000 incidents
	$(BIN)/python benchmarks/metrics_1m.py

bench-report: setup  ## report benchmark: sample report vs a 12-page yardstick, 1,000 and 5,000 incidents
	$(BIN)/python benchmarks/report_render.py

bench-web: setup  ## web benchmark: page render times in-process, throughput under gunicorn on loopback
	$(BIN)/python benchmarks/web_load.py

bench-import: setup  ## import benchmark: 1,000,000 rows vs csv module and pyarrow
	$(BIN)/python benchmarks/import_1m.py

lint: setup
	$(BIN)/ruff check assess tests scripts benchmarks

sample: setup  ## regenerate sample_engagement/ from its seeded script
	$(BIN)/python scripts/generate_sample.py

setup: system-deps $(STAMP)

# Debian packages: installed only when missing (needs root or sudo the first time).
system-deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) $(OUT) build dist *.egg-info
