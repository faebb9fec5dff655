"""Names of the graph attributes nin_mx itself writes or reads (pure, no MXNet)."""

from __future__ import annotations

__all__ = ["BLOCK_ATTR"]

# The attribute our factories put on every node to say which block it belongs to (stem,
# mixed_5b, block35_3, ..., head); the blocks view groups by it. MXNet keeps attributes whose
# names start and end with two underscores in the saved JSON.
BLOCK_ATTR = "__block__"
