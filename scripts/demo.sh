#!/usr/bin/env bash
# Install into its own virtual environment and run `massage demo` on the embedded SQLite default.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-demo
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e .
exec "$venv/bin/massage" demo "$@"
