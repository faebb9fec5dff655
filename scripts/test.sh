#!/usr/bin/env bash
# One command: set up (scripts/bootstrap.sh) and run the whole test suite.
# PYTHON and VENV choose the Python and the environment, as for scripts/bootstrap.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec "${VENV:-.venv}/bin/python" -m pytest "$@"
