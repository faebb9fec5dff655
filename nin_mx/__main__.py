"""``python -m nin_mx``: the same command as ``nin-shape-report``."""

from __future__ import annotations

from nin_mx.cli.main import run

if __name__ == "__main__":
    run()
