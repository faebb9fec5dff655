"""MXNet 1.9.1's own list of operators and of the attributes each takes, checked before anything
executes a graph (pure; the list is data, written by ``scripts/make_op_registry.py`` from
MXNet's C API ``MXSymbolGetAtomicSymbolInfo``).

:func:`check_node` refuses, in one line naming the node, an operator MXNet does not have, an
attribute its operator does not take, a required attribute that is missing, and a value the
attribute's type does not admit, read by the one strict reader of :mod:`nin_mx.core.attrs`
(``'+0'`` and ``' 3'`` as MXNet reads them; ``'0x10'`` or ``'1e3'`` for an integer refused).
So neither the engine nor MXNet ever sees a value it would read differently or crash on.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nin_mx.core import attrs as _attrs
from nin_mx.core.errors import GraphError

__all__ = ["check_node", "mxnet_operators"]

_DATA = Path(__file__).with_name("mxnet_registry.json")
# Keys MXNet moves out of the way before it parses attributes (kHiddenKeys in MXNet's
# src/nnvm/legacy_json_util.cc and c_api_symbolic.cc), alone or as a suffix (weight_lr_mult).
_HIDDEN = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope")
# Attributes MXNet 1.9.1 divides by without checking them first (a SIGFPE, no message): the
# lowest value nin_mx lets through, beyond the bounds MXNet's parser declares itself.
# (src/operator/nn/convolution.cc and deconvolution-inl.h: num_group; nn/group_norm-inl.h:
# num_groups; correlation-inl.h: stride1, stride2, kernel_size; contrib/deformable_convolution:
# num_group, num_deformable_group.)
_CRASH_BOUNDS: Mapping[str, Mapping[str, int]] = {
    "Convolution": {"num_group": 1},
    "Deconvolution": {"num_group": 1},
    "GroupNorm": {"num_groups": 1},
    "Correlation": {"stride1": 1, "stride2": 1, "kernel_size": 1},
    "_contrib_DeformableConvolution": {"num_group": 1, "num_deformable_group": 1},
    "_contrib_ModulatedDeformableConvolution": {"num_group": 1, "num_deformable_group": 1},
}
# Operators whose attributes are free-form (their parser takes any key).
_FREE_FORM = frozenset({"Custom", "_CustomFunction", "_CachedOp", "_foreach", "_while_loop", "_cond"})


@functools.lru_cache(maxsize=1)
def _registry() -> Mapping[str, Any]:
    with open(_DATA, encoding="utf-8") as handle:
        return json.load(handle)["operators"]


def mxnet_operators() -> frozenset[str]:
    """Every operator name MXNet 1.9.1 registers (aliases included)."""
    return frozenset(_registry())


def _hidden(key: str) -> bool:
    return (key.startswith("__") and key.endswith("__")) or any(
        key == hidden or key.endswith("_" + hidden) for hidden in _HIDDEN
    )


def _enum(choices: str) -> Callable[[str, str], None]:
    allowed = {c.strip().strip("'") for c in choices.split(",")}

    def check(raw: str, where: str) -> None:
        if raw not in allowed:
            raise GraphError(f"{where}={raw!r} is not one of {', '.join(sorted(allowed))}")

    return check


def _optional(check: Callable[[str, str], Any]) -> Callable[[str, str], None]:
    def optional(raw: str, where: str) -> None:
        if raw.strip() != "None":
            check(raw, where)

    return optional


def _int_check(bits: int, non_negative: bool) -> Callable[[str, str], None]:
    def check(raw: str, where: str) -> None:
        value = _attrs.parse_int(raw, where=where, bits=bits)
        if non_negative and value < 0:
            raise GraphError(f"{where}={raw!r} must not be negative")

    return check


def _shape(raw: str, where: str) -> None:
    _attrs.parse_optional_int_tuple(raw, where=where)


_TYPE = re.compile(r"^(?P<kind>[^,{]*?|\{[^}]*\})\s*,?\s*(?:optional|required|$)")


@functools.cache
def _checker(kind: str) -> Callable[[str, str], None] | None:
    """A value check from MXNet's type description (``int (non-negative), required``,
    ``Shape(tuple), optional, default=[]``, ``{'avg', 'max'},optional, default='max'``); None
    for a type nin_mx does not check (a string, a tuple of floats)."""
    head = kind.split(",", 1)[0].strip() if not kind.startswith("{") else kind[1 : kind.index("}")]
    if kind.startswith("{"):
        return _enum(head)
    base, _, maybe_none = head.partition(" or ")
    check: Callable[[str, str], Any] | None
    if base.startswith(("int", "long")):
        check = _int_check(64 if base.startswith("long") else 32, "non-negative" in base)
    elif base.startswith("boolean"):
        check = lambda raw, where: _attrs.parse_bool(raw.strip(), where=where)  # noqa: E731
    elif base.startswith(("float", "double")):
        check = lambda raw, where: _attrs.parse_float(raw, where=where)  # noqa: E731
    elif base.startswith("Shape"):
        check = _shape
    else:
        return None
    return _optional(check) if maybe_none.strip() == "None" or base.startswith("Shape") else check


def check_node(name: str, op: str, attrs: Mapping[str, str]) -> None:
    """Checks one operator node against MXNet 1.9.1's registry.

    Raises:
        GraphError: ``node 'relu1': MXNet 1.9.1 has no operator FancyConvolution``,
            ``node 'conv1' (Convolution): attribute num_filter='0' must be at least 1``,
            ``node 'conv1' (Convolution): no attribute 'colour' (it takes ...)``,
            ``node 'conv1' (Convolution): attribute num_group='0x10' is not an integer``.
    """
    entry = _registry().get(op)
    if entry is None:
        raise GraphError(f"node '{name}': MXNet 1.9.1 has no operator {op}")
    params: Mapping[str, str] = entry["params"]
    if op in _FREE_FORM or not params:
        return
    for key, raw in attrs.items():
        if _hidden(key):
            continue
        kind = params.get(key)
        if kind is None:
            raise GraphError(
                f"node '{name}' ({op}): no attribute {key!r} (it takes {', '.join(sorted(params))})"
            )
        check = _checker(kind)
        if check is not None:
            try:
                check(raw, f"attribute {key}")
            except GraphError as exc:
                raise GraphError(f"node '{name}' ({op}): {exc}") from None
        low = entry.get("lower_bounds", {}).get(key, _CRASH_BOUNDS.get(op, {}).get(key))
        if low is not None and _attrs.parse_int(raw, where=f"attribute {key}", bits=64) < low:
            raise GraphError(f"node '{name}' ({op}): attribute {key}={raw!r} must be at least {low}")
    for key, kind in params.items():
        if "required" in kind and key not in attrs and key != entry.get("num_args"):
            raise GraphError(f"node '{name}' ({op}): the required attribute {key} is missing")
