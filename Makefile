# Two commands a user needs: `make run` (set up, start the dashboard) and `make test` (set up, pass every test).
# In production: `make serve` (gunicorn, SVRP_WORKERS processes); `make load` load-tests it on loopback.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run serve load test bench lint build setup browser-deps browser-js redis-dep server-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(PY) app.py

# several workers and no SVRP_REDIS_URL: a private redis-server (Debian's), installed when root
serve: $(STAMP) redis-dep
	$(PY) serve.py

# 50 users for 60 s against a 2-worker gunicorn on a free loopback port; prints a table.
# LOAD_ARGS=--instances 2: two instances behind nginx on one Redis, beside one instance
load: $(STAMP) server-deps
	$(PY) -m benchmarks.load $(LOAD_ARGS)

# Debian's chromium + chromium-driver for the browser tests, and poppler-utils (pdftotext,
# pdftoppm) for the printed-profile test, installed when root and missing.
browser-deps:
	@if ! command -v chromedriver >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver poppler-utils; \
	  else \
	    echo "browser tests need Debian's chromium, chromium-driver and poppler-utils: run 'sudo apt-get install chromium chromium-driver poppler-utils'"; \
	  fi; \
	fi

# axe-core for the accessibility tests (tests/browser/package-lock.json): Debian's npm when root
# and missing, then npm ci when node_modules is missing or older than the lock file.
AXE_LOCK := tests/browser/node_modules/.package-lock.json
browser-js:
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = "0" ]; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
	  if [ ! -f $(AXE_LOCK) ] || [ tests/browser/package-lock.json -nt $(AXE_LOCK) ]; then \
	    npm ci --prefix tests/browser --no-audit --no-fund; \
	  fi; \
	else \
	  echo "the accessibility tests need npm (Debian's npm) for axe-core: they are skipped"; \
	fi

# Debian's redis-server (make serve with several workers, Redis tests) and nginx (the
# two-instance test and make load --instances 2), installed when root and missing.
redis-dep:
	@if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server; \
	  else \
	    echo "several workers need Debian's redis-server: run 'sudo apt-get install redis-server', or set SVRP_REDIS_URL or SVRP_WORKERS=1"; \
	  fi; \
	fi

server-deps: redis-dep
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx; \
	  else \
	    echo "the two-instance tests need Debian's nginx: run 'sudo apt-get install nginx'"; \
	  fi; \
	fi

test: $(STAMP) browser-deps browser-js server-deps
	$(PY) -m ruff check .
	$(PY) -m pytest

# main before the England-scale work (issue 4): the Warwickshire overview is measured against it
BENCH_BASELINE ?= 0342ef1

bench: $(STAMP) browser-deps
	$(PY) -m benchmarks --baseline $(BENCH_BASELINE)

build: $(STAMP)
	$(PY) -m profiler build

clean:
	rm -rf $(VENV) .pytest_cache
