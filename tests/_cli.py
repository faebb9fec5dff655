"""The command run as a user runs it: ``python -m nin_mx ...`` in a subprocess of this Python."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``nin-shape-report ARGS`` (as ``python -m nin_mx``), text output, Python warnings off."""
    return subprocess.run(
        [sys.executable, "-m", "nin_mx", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
