#!/usr/bin/env bash
# One command: set up (scripts/bootstrap.sh) and run nin-shape-report with the given arguments.
# PYTHON and VENV choose the Python and the environment, as for scripts/bootstrap.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
exec "${VENV:-.venv}/bin/nin-shape-report" "$@"
