"""What MXNet 1.9.1's own symbol loader refuses in a file nin_mx reads (pure, no MXNet).

nin_mx reads symbol files with Python's json module, which takes more than MXNet's loader:
dmlc-core's ``JSONReader`` (``include/dmlc/json.h``: ``ReadString`` knows five escapes, an
object's fields are declared) and nnvm's ``JSONGraph``/``JSONNode`` with graph attributes read
as ``dmlc::any`` of a type registered by ``DMLC_JSON_ENABLE_ANY``. Such a file is inspected all
the same, with a note that MXNet would not load it (``tests/test_mxnet_loader.py`` checks each
verdict against ``mx.sym.load_json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["mxnet_load_refusal"]

# What MXNet 1.9.1's JSON reader (dmlc-core include/dmlc/json.h, JSONReader, and nnvm's
# JSONGraph/JSONNode) takes beyond what Python's json module takes: only these string escapes,
# these fields, and graph attributes of a registered type (DMLC_JSON_ENABLE_ANY).
_ESCAPES = frozenset('rn\\t"')
_GRAPH_FIELDS = frozenset({"nodes", "arg_nodes", "node_row_ptr", "heads", "attrs"})
_NODE_FIELDS = frozenset(
    {"op", "name", "inputs", "attrs", "attr", "param", "control_deps", "subgraphs", "backward_source_id"}
)
_INT32 = 2**31


def _any_value_problem(kind: Any, value: Any) -> str | None:
    """Why a graph attribute's ``[type, value]`` is not one nnvm's ``dmlc::any`` reader loads."""

    def int32(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and -_INT32 <= v < _INT32

    checks: dict[str, Callable[[Any], bool]] = {
        "int": int32,
        "size_t": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64,
        "str": lambda v: isinstance(v, str),
        "list_int": lambda v: isinstance(v, list) and all(map(int32, v)),
        "list_str": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "list_shape": lambda v: (
            isinstance(v, list) and all(isinstance(x, list) and all(map(int32, x)) for x in v)
        ),
    }
    if not isinstance(kind, str) or kind not in checks:
        return f"a type {json.dumps(kind)} its JSON reader does not know"
    if not checks[kind](value):
        return f"a value {json.dumps(value)[:40]} that is not a {kind}" + (
            " (32 bits)" if "int" in kind else ""
        )
    return None


def mxnet_load_refusal(text: str, graph: Mapping[str, Any]) -> str | None:
    """Why MXNet 1.9.1's ``mx.sym.load_json`` refuses a symbol file that nin_mx reads, or None.

    Its JSON reader is stricter than Python's: no string escape but ``\\r \\n \\\\ \\t \\"``
    (so no ``\\u0000`` and no lone surrogate ``\\ud800`` in a name), no field it does not know,
    ``arg_nodes`` required, and every graph attribute a ``[type, value]`` pair of a type it
    registered (``mxnet_version`` an ``int`` of 32 bits)."""
    for match in re.finditer(r"\\(.)", text):
        if match.group(1) not in _ESCAPES:
            return f"its JSON reader knows no string escape \\{match.group(1)} (a name or value holds one)"
    return _graph_refusal(graph)


def _graph_refusal(graph: Mapping[str, Any], where: str = "") -> str | None:
    """Why MXNet's reader refuses one graph: the file's, or a node's subgraph (a ``JSONGraph``
    too, read by ``JSONNode::Load``), named by ``where``."""
    unknown = sorted(set(graph) - _GRAPH_FIELDS)
    if unknown:
        return f"{where}its JSON reader knows no field {unknown[0]!r}"
    if "arg_nodes" not in graph:
        return f"{where}the field 'arg_nodes' is missing"
    for raw in graph.get("nodes", ()):
        extra = sorted(set(raw) - _NODE_FIELDS) if isinstance(raw, Mapping) else []
        if extra:
            return f"{where}its JSON reader knows no node field {extra[0]!r}"
        for k, sub in enumerate(raw.get("subgraphs", ()) if isinstance(raw, Mapping) else ()):
            found = _graph_refusal(sub, f"{where}node '{raw.get('name')}', subgraph {k}: ")
            if found is not None:
                return found
    attrs = graph.get("attrs", {})
    for key, value in attrs.items() if isinstance(attrs, Mapping) else ():
        if not isinstance(value, list) or len(value) != 2:
            return f"{where}the graph attribute {key!r} is not a [type, value] pair"
        problem = _any_value_problem(*value)
        if problem is None and key == "mxnet_version" and value[0] != "int":
            problem = "a type other than int"
        if problem is not None:
            return f"{where}the graph attribute {key!r} has {problem}"
    return None
