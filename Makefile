# One-command set-up, tests, the main job and the benchmark.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# pip on this project's machines takes these from local disk; override elsewhere if needed.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
# Upstream deepface, installed apart (same package name) as a test oracle and benchmark peer.
ORACLE_DIR ?= .oracle
ORACLE_PACKAGES ?= deepface==0.0.103 retina-face==0.0.19 werkzeug markupsafe
IMAGES ?= ../shared/faces
DETECTOR ?= mtcnn

# The stamp records the packages installed, so `make oracle` (and `make setup`) does nothing
# when they are there already, and reinstalls when ORACLE_PACKAGES changes.
ORACLE_STAMP := $(ORACLE_DIR)/.installed

.PHONY: setup packages oracle database-servers test test-fast demo bench bench-recognition bench-analyze bench-database bench-database-servers bench-matrix bench-serve clean

# Everything the package, its engines and the tests need, the oracle and the upstream
# pull request's tool environment (tests/test_upstream_pr.py) included.
setup: packages oracle upstream-venv database-servers

packages: $(BIN)/python
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install $(TORCH_SPEC)
	$(BIN)/pip install -e ".[tensorflow,pytorch,openvino,yolo,dlib,mediapipe,find,postgres,pgvector,mysql,redis,faiss,qdrant,milvus,api,cli,grpc,s3,ray,test,test-databases]"
	$(BIN)/pip install --no-deps -r requirements-nodeps.txt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The servers the database tests start by themselves (tests/test_database_servers.py):
# MariaDB 10.11 for database_type="mysql" and redis-server 7, from Debian, installed (as
# root, without starting them as services) only when missing. PostgreSQL with pgvector
# comes from the pgserver wheel (the test-databases extra).
DATABASE_SERVER_PACKAGES ?= mariadb-server:/usr/sbin/mariadbd redis-server:/usr/bin/redis-server

database-servers:
	@missing=""; for entry in $(DATABASE_SERVER_PACKAGES); do \
		package=$${entry%%:*}; program=$${entry#*:}; \
		[ -x "$$program" ] || missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then echo "database-servers: mariadb-server and redis-server already installed"; \
	elif [ "$$(id -u)" != 0 ]; then echo "database-servers: missing$$missing; run as root: apt-get install -y$$missing" >&2; exit 1; \
	else echo "database-servers: installing$$missing (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends $$missing; \
	fi

oracle: $(BIN)/python
	@if [ "$$(cat $(ORACLE_STAMP) 2>/dev/null)" = "$(ORACLE_PACKAGES)" ]; then \
		echo "oracle: $(ORACLE_PACKAGES) already in $(ORACLE_DIR)"; \
	else \
		$(BIN)/pip install --no-deps --upgrade --target $(ORACLE_DIR) $(ORACLE_PACKAGES) && \
		echo "$(ORACLE_PACKAGES)" > $(ORACLE_STAMP); \
	fi

# Test modules run on TEST_WORKERS processes (pytest-xdist), each module whole in one of
# them (--dist loadscope), longest first (tests/conftest.py orders them; --no-loadscope-reorder
# keeps that order), so a module's fixtures are built once. PYTEST_ARGS
# narrows a run, e.g. make test PYTEST_ARGS="-k verify".
TEST_WORKERS ?= 2
PYTEST_ARGS ?=
PYTEST := DEEPFACE_ORACLE_DIR=$(abspath $(ORACLE_DIR)) $(BIN)/python -m pytest -q -rs \
	-n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=10

test:
	$(PYTEST) $(PYTEST_ARGS) tests

# The edit loop: every test not marked slow (tests/conftest.py lists the slow ones).
test-fast:
	$(PYTEST) -m "not slow" $(PYTEST_ARGS) tests

# Exit status 1 means some images had no face (recorded in faces.jsonl): not a failed demo.
demo:
	$(BIN)/deepface extract-faces $(IMAGES) --detector-backend $(DETECTOR) --output faces.jsonl \
		--crops crops --overwrite || [ $$? -eq 1 ]
	@echo "wrote faces.jsonl and crops/"

BENCH_ARGS ?= --detectors opencv opencv@border0 mtcnn yolov8n yolov8n:torch yolov11n retinaface --batch-sizes 1 4 16 64 --photos 24 --frames 32 --output docs/benchmarks.md

bench:
	$(BIN)/python scripts/benchmark.py $(BENCH_ARGS)

RECOGNITION_BENCH_ARGS ?= --photos 8 --output docs/benchmarks-recognition.md

bench-recognition:
	$(BIN)/python scripts/benchmark_recognition.py $(RECOGNITION_BENCH_ARGS)

# Real servers on 127.0.0.1: this package's (merging on, off) and deepface 0.0.103's API (oracle).
SERVE_BENCH_ARGS ?= --clients 1 4 16 64 --seconds 10 --output docs/benchmarks-serving.md

bench-serve:
	DEEPFACE_ORACLE_DIR=$(abspath $(ORACLE_DIR)) $(BIN)/python scripts/benchmark_serving.py $(SERVE_BENCH_ARGS)

ANALYZE_BENCH_ARGS ?= --photos 8 --repeats 3 --output docs/benchmarks-analyze.md

bench-analyze:
	$(BIN)/python scripts/benchmark_analyze.py $(ANALYZE_BENCH_ARGS)

# Starts (and removes) a throw-away PostgreSQL cluster: needs /usr/lib/postgresql/15/bin.
DATABASE_BENCH_ARGS ?= --photos 12 --queries 50 --repeats 3 --output docs/benchmarks-database.md

# The matrix of issue 25: detectors x models x batch sizes x verbs, against deepface 0.0.103
# on each of its engines (medians of 3); its section of docs/benchmarks.md and a plot.
MATRIX_BENCH_ARGS ?= --repeats 3 --photos 8 --output docs/benchmarks.md

bench-matrix:
	$(BIN)/python scripts/benchmark_matrix.py $(MATRIX_BENCH_ARGS)

bench-database:
	$(BIN)/python scripts/benchmark_database.py $(DATABASE_BENCH_ARGS)

# pgvector, MariaDB and Redis servers started here: the database part of register and search.
DATABASE_SERVERS_BENCH_ARGS ?= --stored 20000 --register 1000 --queries 64 --repeats 3 --output docs/benchmarks-database.md

bench-database-servers:
	$(BIN)/python scripts/benchmark_database_servers.py $(DATABASE_SERVERS_BENCH_ARGS)

clean:
	rm -rf crops faces.jsonl .pytest_cache

# --- The pull request to serengil/deepface (upstream_pr/, not shipped in the wheel) -------
# make upstream-pr DEEPFACE=path/to/deepface-clone    : the branch batched-detection, 5 commits
# make upstream-check DEEPFACE=path/to/deepface-clone : pylint, mypy, unit tests, batch == single
# Tools (pylint 2.15.10, mypy 1.14.1, libcst) live in their own venv; deepface master's extra
# runtime packages (lightphe, ...) in a folder put on PYTHONPATH only for the clone's code.
UPSTREAM_VENV ?= .venv-upstream
UPSTREAM_EXTRA ?= $(UPSTREAM_VENV)/deepface-extra
UPSTREAM_HOME ?= $(UPSTREAM_VENV)/home
UPSTREAM_GATES ?= pylint mypy unit same
UPSTREAM_TOOLS ?= pylint==2.15.10 mypy==1.14.1 libcst
UPSTREAM_EXTRA_PACKAGES ?= lightphe lightecc lightdsa pandas python-dateutil tzdata six \
	flask_cors werkzeug markupsafe retina-face==0.0.19

.PHONY: upstream-venv upstream-pr upstream-check

$(UPSTREAM_VENV)/bin/python:
	$(BIN)/python -m venv $(UPSTREAM_VENV)
	$(UPSTREAM_VENV)/bin/pip install -q $(UPSTREAM_TOOLS)
	$(BIN)/pip install -q --no-deps --target $(UPSTREAM_EXTRA) $(UPSTREAM_EXTRA_PACKAGES)

upstream-venv: $(UPSTREAM_VENV)/bin/python

upstream-pr: upstream-venv
	@test -n "$(DEEPFACE)" || { echo "usage: make upstream-pr DEEPFACE=path/to/deepface-clone"; exit 2; }
	$(UPSTREAM_VENV)/bin/python -m upstream_pr.make_branch $(DEEPFACE)

upstream-check: upstream-venv
	@test -n "$(DEEPFACE)" || { echo "usage: make upstream-check DEEPFACE=path/to/deepface-clone"; exit 2; }
	$(UPSTREAM_VENV)/bin/python -m upstream_pr.check $(DEEPFACE) --gates $(UPSTREAM_GATES) \
		--runtime-python $(abspath $(BIN))/python --extra-path $(abspath $(UPSTREAM_EXTRA)) \
		--home $(UPSTREAM_HOME)
