#!/usr/bin/env bash
# One-command setup: system packages (when missing), .venv, the project and its tools.
# Idempotent: each step is skipped when its result is already in place and up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${SETUP_EXTRAS:-}"          # e.g. "--with-browser" for the deck tests
bash scripts/install-system.sh $extras

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "venv: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi

stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "venv: installing the project (first time: torch + torchvision are ~3 GB)"
  .venv/bin/python -m pip install --upgrade --quiet pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
else
  echo "venv: project installed and up to date"
fi
