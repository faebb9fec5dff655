#!/usr/bin/env bash
# Sets up nin_mx in a virtual environment: Debian's graphviz (for the notebook's graph drawings) and
# chromium (for the HTML report's browser test, tests/test_html_browser.py), the environment, and the
# package with its test extras. Safe to run again; it only adds what is missing.
# On Python 3.13 and later the package comes without MXNet (1.9.1 needs numpy<2, which has no wheels
# there; setup.py's markers leave it out) and with numpy 2; the tests that need MXNet are skipped.
#   PYTHON  the Python that creates the environment (default: python3)
#   VENV    where it goes, relative to the repository or absolute (default: .venv)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: install PACKAGE as root (or through sudo), or say what will fail without it.
apt_install() {
  local package=$1 consequence=$2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  else
    echo "bootstrap: $package is missing and cannot be installed without root; $consequence" >&2
  fi
}
if ! command -v dot >/dev/null 2>&1; then
  apt_install graphviz "graph drawings will fail"
fi
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium "the HTML browser test will fail"
fi

VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
elif [ -n "${PYTHON:-}" ]; then
  # An environment made by another Python would be reused silently; refuse it instead.
  version='import sys; print("%d.%d" % sys.version_info[:2])'
  want=$("$PYTHON" -c "$version")
  have=$("$VENV/bin/python" -c "$version")
  if [ "$want" != "$have" ]; then
    echo "bootstrap: $VENV has Python $have, not $want ($PYTHON); remove it or choose another VENV" >&2
    exit 1
  fi
fi
stamp=$VENV/.nin_mx-installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
  if "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 13))'; then
    echo "bootstrap: $("$VENV/bin/python" -V) has no MXNet (MXNet 1.9.1 runs on Python 3.9-3.12):" \
      "symbol factories need it, and its tests are skipped" >&2
  fi
  touch "$stamp"
fi
# Bytecode for nin_mx, so that each command-line run need not compile it (where
# PYTHONDONTWRITEBYTECODE is set, Python reads these but would write none itself).
"$VENV/bin/python" -m compileall -q nin_mx >/dev/null
