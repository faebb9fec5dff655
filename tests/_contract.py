"""The documented output contract (README, "JSON output"), shared by the render and CLI tests.

Written out here, not read from nin_mx, so that a change to the code's columns or keys fails.
"""

from __future__ import annotations

CSV_COLUMNS = [
    "border_mode",
    "ok",
    "error",
    "name",
    "op",
    "inputs",
    "output_shape",
    "params",
    "aux",
    "macs",
    "kernel",
    "stride",
    "pad",
    "dilate",
    "receptive_field",
    "jump",
]
