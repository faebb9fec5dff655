"""Shape rules of MXNet 1.9.1's contrib and detection operators (``src/operator/contrib/`` and kin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register(add: Callable[..., None], info: Any, names: Any, const: Any, one: Any) -> None:
    """Adds this module's operators to the table (called once by :mod:`nin_mx.core.ops`)."""
