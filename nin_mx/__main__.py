"""``python -m nin_mx``: the same command as ``nin-shape-report``."""

from __future__ import annotations

import sys

from nin_mx.cli import main

if __name__ == "__main__":
    sys.exit(main())
