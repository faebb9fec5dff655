#!/usr/bin/env bash
# One command: set up (scripts/bootstrap.sh) and run nin-shape-report with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
exec .venv/bin/nin-shape-report "$@"
