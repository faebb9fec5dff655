#!/usr/bin/env bash
# One command: set up (scripts/bootstrap.sh), add Jupyter Notebook to that environment if it is
# missing, and open the walkthrough, notebooks/walkthrough.ipynb.
# Without a display (no DISPLAY or WAYLAND_DISPLAY, e.g. over SSH or in a container) no browser is
# started: open the URL printed here (on a remote machine, forward the port first, e.g.
# ssh -L 8888:127.0.0.1:8888 HOST). Stop the server with Ctrl-C.
#   PYTHON and VENV  choose the Python and the environment, as for scripts/bootstrap.sh; the walkthrough
#                    runs on Python 3.13 too (PYTHON=python3.13 VENV=.venv-3.13), without MXNet
#   PORT             the port to listen on, on 127.0.0.1 (default: 8888, or a free one if taken)
# Further arguments go to Jupyter, e.g. bash scripts/notebook.sh --ServerApp.shutdown_no_activity_timeout=3600
set -euo pipefail
cd "$(dirname "$0")/.."
NOTEBOOK=notebooks/walkthrough.ipynb

bash scripts/bootstrap.sh >&2
VENV=${VENV:-.venv}
python=$VENV/bin/python

# Jupyter Notebook 7 (on jupyter_server 2, whose token option is used below); an older one is upgraded.
if ! "$python" -c 'import sys, notebook; sys.exit(int(notebook.__version__.split(".")[0]) < 7)' 2>/dev/null; then
  echo "notebook: installing Jupyter Notebook into $VENV" >&2
  "$python" -m pip install -q --disable-pip-version-check 'notebook>=7'
fi

# The port, and a token chosen here, so that the URL printed below is the one that works.
port=$("$python" - "${PORT:-8888}" <<'EOF'
import socket
import sys

def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return None
        return s.getsockname()[1]

print(free(int(sys.argv[1])) or free(0))
EOF
)
token=$("$python" -c 'import secrets; print(secrets.token_hex(24))')

options=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "$(uname -s)" != Darwin ]; then
  options+=(--no-browser)
fi
if [ "$(id -u)" = 0 ]; then
  options+=(--allow-root)  # as in a container; Jupyter refuses root otherwise
fi
echo "notebook: the walkthrough is at http://127.0.0.1:$port/notebooks/$NOTEBOOK?token=$token" >&2
case " ${options[*]-} " in
  *" --no-browser "*) echo "notebook: no display here, so no browser is started: open that URL" >&2 ;;
esac

exec "$python" -m notebook "$NOTEBOOK" ${options[@]+"${options[@]}"} \
  --ServerApp.root_dir="$PWD" --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" "$@"
