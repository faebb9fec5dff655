"""The command line: arguments -> a frozen request -> a run -> an exit code (the only layer
that prints). ``nin-shape-report`` and ``python -m nin_mx`` call :func:`run`."""

from __future__ import annotations

from nin_mx.cli.main import main, run

__all__ = ["main", "run"]
