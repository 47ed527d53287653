# Front door. `make render` and `make test` set everything up first (idempotent).
QUALITY ?= 1080p
LECTURE ?= forward-diffusion
JOBS ?=
ARGS ?=
PY := .venv/bin/python

.PHONY: setup setup-test render slides test test-all bench lint typecheck clean

setup:
	@bash scripts/setup.sh

setup-test:
	@SETUP_EXTRAS="--with-browser --with-office" bash scripts/setup.sh

render: setup
	$(PY) render.py --lecture $(LECTURE) --quality $(QUALITY) $(if $(JOBS),--jobs $(JOBS)) $(ARGS)

slides: setup
	$(PY) render.py slides --lecture $(LECTURE) $(ARGS)

test: setup-test lint typecheck
	$(PY) -m pytest -m "not slow" -n auto $(ARGS)

test-all: setup-test lint typecheck
	$(PY) -m pytest $(ARGS)

bench: setup
	$(PY) bench/bench_render.py --lecture $(LECTURE) --quality $(QUALITY) $(if $(JOBS),--jobs $(JOBS)) $(ARGS)

lint: setup
	$(PY) -m ruff check .

typecheck: setup
	$(PY) -m mypy

clean:
	rm -rf output/* output/.*.versions output/.*.lock media/ .pytest_cache
