# `make run`: set up and start the service.  `make test`: set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev browser calibrate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# facenet-pytorch's own pins are stale (torch<2.3, numpy<2, Pillow<10.3): install it without them.
$(VENV)/.runtime: requirements.txt requirements-nodeps.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	$(BIN)/pip install --no-deps -r requirements-nodeps.txt
	@$(BIN)/python -c "import magic" 2>/dev/null || { echo "libmagic is missing: install it (Debian/Ubuntu: apt-get install libmagic1)"; exit 1; }
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

run: install
	$(BIN)/flask --app run init-db
	$(BIN)/gunicorn -c gunicorn.conf.py run:app

# Chromium + ChromeDriver for tests/browser (Debian packages; needs root or sudo).
browser:
	bash scripts/install-browser.sh

# The whole suite on SQLite, then the database-facing tests (API, units, crash safety, two replicas with
# Redis) on a PostgreSQL server that scripts/postgres-for-tests.sh installs and starts on loopback (needs
# root or sudo; under CI=true a missing PostgreSQL fails the run instead of skipping it).
PG_TESTS = tests/api tests/unit tests/e2e/test_crash_safety.py tests/e2e/test_replicas.py
test: install-dev browser
	$(BIN)/python -m pytest
	@bash scripts/redis-for-tests.sh
	@url=$$(bash scripts/postgres-for-tests.sh); \
	if [ -n "$$url" ]; then \
		echo "== the same tests on PostgreSQL: $(PG_TESTS)"; \
		ABSEN_TEST_DATABASE_URL=$$url $(BIN)/python -m pytest -m "not fuzz" $(PG_TESTS); \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is required under CI"; exit 1; \
	else echo "PostgreSQL tests skipped (see above)"; fi

# Calibrate this site's threshold on ../shared/datasets/lfw (about 20 minutes on 2 cores, then cached).
DATASETS ?= ../shared/datasets
calibrate: install
	$(BIN)/flask --app run calibrate --pairs $(DATASETS)/lfw/pairs.txt --far 0.001 --workers 2

# Speed figures on ../shared/datasets (printed; /predict over HTTP is also written to docs/benchmarks.md).
bench: install
	$(BIN)/python bench/stages.py
	$(BIN)/python bench/bulk.py
	$(BIN)/python bench/latency.py --record
	$(BIN)/pip install --quiet --no-deps --target .bench-libs face_recognition==1.3.0 "setuptools<81"
	PYTHONPATH=.bench-libs $(BIN)/python bench/compare.py --record

clean:
	rm -rf $(VENV) .pytest_cache test-output
