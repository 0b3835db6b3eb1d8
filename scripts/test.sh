#!/usr/bin/env bash
# The whole test suite from nothing: its own virtual environment, mypy, import-linter, pytest
# (unit + integration on SQLite and on a throwaway PostgreSQL server the run starts itself).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-test
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
echo "== mypy (strict) =="
"$venv/bin/mypy"
echo "== import-linter =="
"$venv/bin/lint-imports" --no-logo
echo "== pytest =="
"$venv/bin/pytest" -n 2 "$@"
