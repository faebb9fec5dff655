"""Loads ``nin_mx._mxnet`` before any test module runs ``import mxnet`` itself.

MXNet 1.9.1 reads ``numpy.bool`` at import, which the numpy of Python 3.12 (1.26) no longer has;
``nin_mx._mxnet`` puts the alias back just before MXNet is loaded, and registers the (lazy)
module under ``mxnet``, so a later ``import mxnet`` gets that module.
"""

from __future__ import annotations

import nin_mx._mxnet  # noqa: F401
