#!/usr/bin/env bash
# One command: set up (scripts/bootstrap.sh) and write every file the README's (and --help's) examples read
# into DIR (default: the current folder), with MXNet: scripts/make_examples.py says which.
#   bash scripts/examples.sh [DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
target=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)
(cd "$here" && bash scripts/bootstrap.sh >&2)
exec "$here/${VENV:-.venv}/bin/python" "$here/scripts/make_examples.py" "$target"
