"""A pure-Python MXNet symbol builder: nin_mx's factories write MXNet 1.9.1's symbol JSON themselves.

No MXNet and no numpy: a :class:`Symbol` is one output of a node in a small graph of
:class:`_Node` objects, and :meth:`Symbol.tojson` writes the graph exactly as MXNet 1.9.1's
``Symbol.tojson()`` does, byte for byte (``tests/test_builder.py`` holds it to MXNet's own bytes).
What MXNet does when a symbol is created, rewritten from its source:

* attribute values are ``str()`` of the Python value (``(3, 3)`` -> ``"(3, 3)"``, ``True`` ->
  ``"True"``, ``1e-3`` -> ``"0.001"``): python/mxnet/_ctypes/symbol.py, ``_symbol_creator``;
  the attributes of an enclosing :func:`attr_scope` (``__block__``) are added to every node
  created inside it, operators and variables (python/mxnet/attribute.py, ``AttrScope``);
* a variadic operator (Concat) gets ``num_args``, the number of its inputs (``key_var_num_args``
  in python/mxnet/symbol/register.py);
* an input left out becomes a variable named ``<node>_<input>`` carrying a copy of the node's
  attributes (nnvm ``Symbol::Compose``, "copy attribute of parent over automatically created
  variables"), plus the ``__init__`` that the operator's ``FSetInputVarAttrOnCompose`` sets
  (BatchNorm's moving statistics: :attr:`nin_mx.core.ops.OpInfo.var_init`);
* an input the operator mutates (an auxiliary state, ``FMutateInputs``) raises the variable's
  version, which the input entry records (nnvm ``UpdateNodeVersion``);
* the JSON lists the nodes in nnvm's depth-first post-order from the heads (``DFSVisit``), every
  variable in ``arg_nodes``, each node's first output in ``node_row_ptr`` (all outputs counted,
  hidden ones too: :attr:`nin_mx.core.ops.OpInfo.num_outputs`), and is written by dmlc-core's
  ``JSONWriter`` (include/dmlc/json.h): two-space indents, ``", "`` before a line break, inputs
  and heads on one line, keys of ``attrs`` sorted.

Input names, output counts and mutated inputs come from the operator table
(:mod:`nin_mx.core.ops`), the one source of those facts.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from nin_mx.core.ops import OPS, op_info

__all__ = [
    "MXNET_VERSION_CODE",
    "Group",
    "Symbol",
    "attr_scope",
    "dumps",
    "graph_order",
    "group",
    "op",
    "var",
]

#: ``attrs.mxnet_version`` of the JSON MXNet 1.9.1 writes (``MXNET_VERSION``, include/mxnet/base.h)
MXNET_VERSION_CODE = 10901

# The attributes of the enclosing scopes, as (name, value) pairs: hashable, a key of _facts.
_SCOPE: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "nin_mx_attr_scope", default=()
)


_Entry = tuple["_Node", int, int]  # an input: (node, output index, version)


class _Node:
    """One node: an operator (``op``) or a variable (``op == "null"``), its attributes sorted by
    name (as the JSON lists them; MXNet keeps them in a ``std::map``). Hashed by identity."""

    __slots__ = ("attrs", "inputs", "name", "num_outputs", "op", "version")

    def __init__(
        self,
        op: str,
        name: str,
        attrs: Mapping[str, str],
        inputs: tuple[tuple[_Node, int, int], ...],
        outputs: int,
    ) -> None:
        self.op = op
        self.name = name
        self.attrs = attrs
        self.inputs = inputs
        self.num_outputs = outputs
        self.version = 0  # a variable's version: how many operators have mutated it


class Symbol(NamedTuple):
    """One output of a node, what ``mx.sym`` functions take and return.

    Attributes:
        node: the node.
        index: which of its outputs.
    """

    node: _Node
    index: int = 0

    @property
    def name(self) -> str:
        """The node's name."""
        return self.node.name

    def __getitem__(self, index: int) -> Symbol:  # type: ignore[override]
        """Output ``index`` of the node (``split(...)[1]``), as MXNet's ``Symbol.__getitem__``."""
        if not 0 <= index < self.node.num_outputs:
            raise IndexError(f"node '{self.node.name}' has {self.node.num_outputs} outputs, not {index + 1}")
        return Symbol(self.node, index)

    def graph(self) -> dict[str, Any]:
        """The graph of this output as MXNet's JSON holds it (``json.loads(sym.tojson())``)."""
        return group([self]).graph()

    def internal(self, name: str) -> Symbol:
        """An output inside this symbol's graph, as MXNet's ``sym.get_internals()[name]``:
        ``name`` is ``<node>_output`` (``<node>_output<k>`` for output k of a node with several),
        or a node's name for its first output.

        Raises:
            KeyError: when the graph has no such output.
        """
        return group([self]).internal(name)

    def tojson(self) -> str:
        """The symbol JSON, byte for byte as MXNet 1.9.1's ``Symbol.tojson()`` writes it."""
        return dumps(self.graph())


class Group(NamedTuple):
    """Several outputs as one graph (:func:`group`)."""

    heads: tuple[Symbol, ...]

    def graph(self) -> dict[str, Any]:
        return _graph(self.heads)

    def internal(self, name: str) -> Symbol:
        """An output inside the graph by name (:meth:`Symbol.internal`)."""
        for node in graph_order(self.heads)[0]:
            if name == node.name:
                return Symbol(node)
            if name.startswith(node.name + "_output"):
                suffix = name[len(node.name) + len("_output") :]
                if suffix == "" or (
                    suffix.isdigit() and node.num_outputs > 1 and int(suffix) < node.num_outputs
                ):
                    return Symbol(node, int(suffix or 0))
        raise KeyError(f"the graph has no output {name!r}")

    def tojson(self) -> str:
        return dumps(self.graph())


def group(heads: Sequence[Symbol]) -> Group:
    """Several outputs as one graph (``mx.sym.Group``)."""
    return Group(tuple(heads))


@contextlib.contextmanager
def attr_scope(**attrs: str) -> Iterator[None]:
    """Every node created inside carries ``attrs`` (``mx.AttrScope``); scopes nest, inner wins."""
    token = _SCOPE.set(tuple({**dict(_SCOPE.get()), **{k: str(v) for k, v in attrs.items()}}.items()))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def var(name: str, **attrs: Any) -> Symbol:
    """A variable (``mx.sym.var``), with the enclosing scope's attributes and ``attrs``.

    As in MXNet (python/mxnet/symbol/symbol.py, ``var``), ``shape``, ``lr_mult`` and ``wd_mult``
    are stored as ``__shape__``, ``__lr_mult__`` and ``__wd_mult__``; any other attribute must be
    a double-underscore annotation.

    Raises:
        ValueError: for another attribute name.
    """
    spelled = {}
    for key, value in attrs.items():
        if key in _VAR_ATTRS:
            key = f"__{key}__"
        elif not (key.startswith("__") and key.endswith("__")):
            raise ValueError(
                f"variable {name!r}: attribute {key!r} must start and end with double underscores"
            )
        spelled[key] = value
    merged = {**dict(_SCOPE.get()), **_spelled(spelled)}
    return Symbol(_Node("null", name, dict(sorted(merged.items())), (), 1))


_VAR_ATTRS = ("shape", "lr_mult", "wd_mult")
_symbol = functools.partial(tuple.__new__, Symbol)  # Symbol((node, index)), without keywords
_VARIADIC = frozenset(name for name, info in OPS.items() if info.variadic)


def op(operator: str, *inputs: Symbol, name: str, **attrs: Any) -> Symbol:
    """An operator node (``mx.sym.<operator>(*inputs, name=name, **attrs)``), output 0.

    Args:
        operator: MXNet's operator name, as the operator table knows it.
        *inputs: the inputs given, in the operator's input order; the rest become variables.
        name: the node's name (required: nin_mx names every node).
        **attrs: the operator's attributes, as Python values.

    Raises:
        ValueError: for an operator the table does not know, or more inputs than it takes.
    """
    given = tuple(zip(attrs, map(str, attrs.values())))  # str() of a str is the str itself
    facts = _facts(operator, _SCOPE.get(), given, len(inputs) if operator in _VARIADIC else -1)
    spelled, names, variables, mutated, outputs, variadic = facts
    if len(inputs) > len(names) and not variadic:
        raise ValueError(
            f"{operator} '{name}' takes {len(names)} inputs ({', '.join(names)}), not {len(inputs)}"
        )
    wired = []
    for node, index in inputs:
        if node.op == "null":
            if mutated and len(wired) in mutated:
                node.version += 1
            wired.append((node, index, node.version))
        else:
            wired.append((node, index, 0))
    for input_name, var_attrs in variables[len(inputs) :]:
        node = _Node("null", f"{name}_{input_name}", var_attrs, (), 1)
        if mutated and len(wired) in mutated:
            node.version = 1
        wired.append((node, 0, node.version))
    return _symbol((_Node(operator, name, spelled, tuple(wired), outputs), 0))


class _Facts(NamedTuple):
    """What the operator table says of one operator setting (:func:`_facts`)."""

    attrs: Mapping[str, str]  # the node's attributes, sorted by name (as the JSON lists them)
    names: tuple[str, ...]  # its input names (none for a variadic one: its inputs are all given)
    variables: tuple[tuple[str, Mapping[str, str]], ...]  # per input: a made variable's attributes
    mutated: frozenset[int]  # the inputs it mutates
    outputs: int  # its number of outputs, hidden ones too
    variadic: bool


@functools.lru_cache(maxsize=4096)
def _facts(
    operator: str, scope: tuple[tuple[str, str], ...], given: tuple[tuple[str, str], ...], count: int
) -> _Facts:
    """What the operator table says of one operator setting, worked out once per setting: the
    scope's attributes, the ones given (spelled as strings; they win) and, for a variadic
    operator, ``num_args`` (its ``count`` of inputs; -1 for another). A variable made for a
    missing input carries the node's attributes plus the ``__init__`` the operator sets for it;
    the attribute mappings are read-only, shared by the nodes of a setting."""
    info = op_info(operator)
    if info is None:
        raise ValueError(f"operator {operator!r} is not in nin_mx's operator table")
    spelled = {**dict(scope), **dict(given)}
    if count >= 0:
        spelled["num_args"] = str(count)
    # read-only, sorted by name (as the JSON lists them): shared by every node of the setting
    attrs = MappingProxyType(dict(sorted(spelled.items())))
    names = () if info.variadic else tuple(info.input_names(attrs))
    init = dict(info.var_init)
    variables = tuple(
        (
            name,
            MappingProxyType(dict(sorted({**attrs, "__init__": init[name]}.items())))
            if name in init
            else attrs,
        )
        for name in names
    )
    return _Facts(
        attrs, names, variables, frozenset(info.mutated_inputs(attrs)), info.num_outputs(attrs), info.variadic
    )


def _spelled(attrs: Mapping[str, Any]) -> dict[str, str]:
    """Attribute values as MXNet's Python front end passes them to C++: ``str(value)``."""
    return {key: value if isinstance(value, str) else str(value) for key, value in attrs.items()}


def graph_order(heads: Sequence[Symbol]) -> tuple[list[_Node], dict[_Node, int]]:
    """The nodes of the graph of ``heads`` in nnvm's ``DFSVisit`` post-order (inputs in order),
    the order the JSON lists them in, and each node's position in it."""
    order: list[_Node] = []
    position: dict[_Node, int] = {}
    for head in heads:
        if head.node in position:
            continue
        position[head.node] = -1
        stack = [(head.node, iter(head.node.inputs))]
        while stack:
            node, pending = stack[-1]
            for child, _, _ in pending:
                if child not in position:
                    if not child.inputs:  # a variable: visited and done at once
                        position[child] = len(order)
                        order.append(child)
                        continue
                    position[child] = -1
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                position[node] = len(order)
                order.append(node)
    return order, position


def _graph(heads: Sequence[Symbol]) -> dict[str, Any]:
    """The JSON graph of ``heads``: nodes in nnvm's ``DFSVisit`` order (inputs in order)."""
    order, position = graph_order(heads)
    nodes = []
    row_ptr = [0]
    for node in order:
        inputs = [[position[child], index, version] for child, index, version in node.inputs]
        if node.attrs:
            nodes.append({"op": node.op, "name": node.name, "attrs": dict(node.attrs), "inputs": inputs})
        else:
            nodes.append({"op": node.op, "name": node.name, "inputs": inputs})
        row_ptr.append(row_ptr[-1] + node.num_outputs)
    return {
        "nodes": nodes,
        "arg_nodes": [i for i, node in enumerate(order) if node.op == "null"],
        "node_row_ptr": row_ptr,
        "heads": [[position[s.node], s.index, 0] for s in heads],
        "attrs": {"mxnet_version": ["int", MXNET_VERSION_CODE]},
    }


_ESCAPES = {"\r": "\\r", "\n": "\\n", "\\": "\\\\", "\t": "\\t", '"': '\\"'}


def _string(text: str) -> str:
    """dmlc ``JSONWriter::WriteString``: escapes these five characters, writes every other as is."""
    if any(ch in text for ch in _ESCAPES):
        text = "".join(_ESCAPES.get(ch, ch) for ch in text)
    return f'"{text}"'


def _items(items: Sequence[str], depth: int, multi_line: bool) -> str:
    """The inside of dmlc's ``BeginArray``/``BeginObject`` ... ``End*``: ``", "`` between items,
    and on a multi-line scope each item on a line of its own, indented two spaces per open scope."""
    if not multi_line or not items:
        return ", ".join(items)
    indent = "\n" + "  " * (depth + 1)
    return indent + f", {indent}".join(items) + "\n" + "  " * depth


def _array(items: Sequence[str], depth: int, multi_line: bool) -> str:
    return "[" + _items(items, depth, multi_line) + "]"


def _object(pairs: Sequence[tuple[str, str]], depth: int, multi_line: bool) -> str:
    # dmlc writes a key as it is (WriteObjectKeyValue); only values go through WriteString.
    return "{" + _items([f'"{key}": {value}' for key, value in pairs], depth, multi_line) + "}"


def _vector(items: Sequence[str], depth: int) -> str:
    """A vector of numbers or of node entries: multi-line above ten items (dmlc ``ArrayHandler``)."""
    return _array(items, depth, len(items) > 10)


def _entries(entries: Sequence[Sequence[int]], depth: int) -> str:
    """Node entries ``[node, output, version]``, each on one line (nnvm ``JSONNodeEntry::Save``)."""
    return _vector(["[" + ", ".join(map(str, entry)) + "]" for entry in entries], depth)


def _node(node: Mapping[str, Any], depth: int) -> str:
    """nnvm ``JSONNode::Save``: op, name, attrs (when any; a map is multi-line above one key), inputs."""
    pairs = [("op", _string(node["op"])), ("name", _string(node["name"]))]
    attrs = node.get("attrs")
    if attrs:
        values = [(key, _string(value)) for key, value in attrs.items()]
        pairs.append(("attrs", _object(values, depth + 1, len(values) > 1)))
    pairs.append(("inputs", _entries(node["inputs"], depth + 1)))
    return _object(pairs, depth, True)


def dumps(graph: Mapping[str, Any]) -> str:
    """A JSON graph (:meth:`Symbol.graph`) written as MXNet 1.9.1 writes it: nnvm's
    ``JSONGraph::Save`` through dmlc-core's ``JSONWriter`` (include/dmlc/json.h)."""
    kind, code = graph["attrs"]["mxnet_version"]
    pairs = [
        ("nodes", _array([_node(node, 2) for node in graph["nodes"]], 1, True)),
        ("arg_nodes", _vector([str(i) for i in graph["arg_nodes"]], 1)),
        ("node_row_ptr", _vector([str(i) for i in graph["node_row_ptr"]], 1)),
        ("heads", _entries(graph["heads"], 1)),
        ("attrs", _object([("mxnet_version", f"[{_string(kind)}, {code}]")], 1, False)),
    ]
    return _object(pairs, 0, True)
