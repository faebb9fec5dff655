"""Reading MXNet symbol graphs: their JSON, checked, as :class:`Node` objects.

:func:`parse_nodes` checks a symbol JSON for the structure nin_mx relies on and for the
values that would crash MXNet's process instead of raising; :func:`data_inputs` names the
variables a caller must give shapes for. Files are read by :mod:`nin_mx.graph.files`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import operator
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from nin_mx.core.errors import GraphError, one_line
from nin_mx.core.validate import Shape

__all__ = ["Node", "check_operators", "collector_paused", "data_inputs", "parse_nodes"]

_NO_ATTRS: Mapping[str, str] = {}


@functools.lru_cache(maxsize=1024)
def _int_tuple(raw: str) -> Shape | None:
    """'(3, 3)' -> (3, 3); '()', '' or 'None' -> None. Cached: a graph repeats a few values."""
    text = raw.strip()
    if text in ("", "()", "[]", "None"):
        return None
    return tuple(int(part) for part in text.strip("()[]").split(",") if part.strip())


class Node(NamedTuple):
    """One node of a symbol graph, as stored in its JSON (a named tuple: cheap to make).

    ``inputs`` are the indices of the nodes feeding it; ``data_output`` is which output of
    the first of them it reads (0 unless that node has several outputs, e.g. a split), and
    ``input_outputs`` which output of each of them it reads.
    """

    index: int
    name: str
    op: str
    attrs: Mapping[str, str]
    inputs: tuple[int, ...]
    data_output: int = 0
    input_outputs: tuple[int, ...] = ()

    @property
    def is_variable(self) -> bool:
        return self.op == "null"

    @property
    def subgraphs(self) -> tuple[Any, ...]:
        """The node's subgraphs (:class:`nin_mx.graph.subgraph.Subgraph`), held by its attributes."""
        return getattr(self.attrs, "subgraphs", ())

    def tuple_attr(self, key: str, default: Shape | None = None) -> Shape | None:
        """An attribute such as ``kernel='(3, 3)'`` as a tuple of ints."""
        raw = self.attrs.get(key)
        if raw is None:
            return default
        try:
            value = _int_tuple(raw)
        except ValueError:
            raise GraphError(
                f"node '{self.name}' ({self.op}): attribute {key}={raw!r} is not a tuple of integers"
            ) from None
        return default if value is None else value

    def bool_attr(self, key: str, default: bool = False) -> bool:
        raw = self.attrs.get(key)
        if raw is None:
            return default
        if raw.strip().lower() in ("true", "1"):
            return True
        if raw.strip().lower() in ("false", "0"):
            return False
        raise GraphError(f"node '{self.name}' ({self.op}): attribute {key}={raw!r} is not a boolean")


def _entry(entry: Any, nodes: Sequence[Node], where: str, what: str = "input") -> int:
    """The node index of a ``[node, output, version]`` entry, checked against ``nodes``."""
    if (
        not isinstance(entry, list)
        or not 1 <= len(entry) <= 3
        or any(isinstance(v, bool) or not isinstance(v, int) for v in entry)
    ):
        raise GraphError(f"{where} has a malformed {what} entry {entry!r} (expected [node, output, version])")
    index, output = entry[0], entry[1] if len(entry) > 1 else 0
    if not 0 <= index < len(nodes):
        raise GraphError(f"{where} references node {index}, which does not precede it")
    if output < 0 or (output > 0 and nodes[index].is_variable):
        raise GraphError(f"{where} references output {output} of node '{nodes[index].name}', which has none")
    return index


def _check_crashers(node: Node) -> None:
    """Rejects the attribute values that crash MXNet 1.9.1's process instead of raising."""
    if node.op in ("Convolution", "Deconvolution"):
        raw = node.attrs.get("num_group", "1").strip()
        if raw.lstrip("-").isdigit() and int(raw) < 1:  # a division by zero (SIGFPE) in infer_shape
            raise GraphError(f"node '{node.name}' ({node.op}): num_group must be at least 1, got {raw}")


def parse_nodes(symbol_json: str | Mapping[str, Any], *, trusted: bool = False) -> list[Node]:
    """The nodes of an MXNet symbol JSON, checked for the structure nin_mx relies on.

    Also rejects what would crash MXNet's process rather than raise (an empty ``heads``
    list, a negative output index, ``num_group=0``).

    Args:
        symbol_json: the JSON text, or the dict ``json.loads`` made of it.
        trusted: the JSON was just written by MXNet itself (``Symbol.tojson()``), so its
            structure needs no checks; files and hand-made graphs must be checked.

    Raises:
        GraphError: if the JSON lacks ``nodes`` or ``heads``, references a missing node,
            or holds a node, attribute or input entry of the wrong type.
    """
    if (
        trusted
        and not isinstance(symbol_json, str)
        and not any("subgraphs" in r for r in symbol_json["nodes"])
    ):
        make, first = tuple.__new__, operator.itemgetter(0)  # Node(...) without its keywords
        second = operator.itemgetter(1)
        nodes = [
            make(
                Node,
                (
                    index,
                    raw["name"],
                    raw["op"],
                    raw.get("attrs", _NO_ATTRS),
                    tuple(map(first, inputs)),
                    inputs[0][1],
                    tuple(map(second, inputs)),
                ),
            )
            if (inputs := raw["inputs"])
            else make(Node, (index, raw["name"], raw["op"], raw.get("attrs", _NO_ATTRS), (), 0, ()))
            for index, raw in enumerate(symbol_json["nodes"])
        ]
        for node in nodes:
            if node.op in ("Convolution", "Deconvolution"):
                _check_crashers(node)  # MXNet builds such a symbol, then crashes inferring it
        return nodes
    try:
        graph = json.loads(symbol_json) if isinstance(symbol_json, str) else symbol_json
    except json.JSONDecodeError as exc:
        raise GraphError(f"not a symbol JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise GraphError("not a symbol JSON: nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise GraphError(f"not a symbol JSON: {one_line(exc)}") from None
    return _checked_graph(graph, 0)[0]


def _checked_graph(graph: Any, depth: int) -> tuple[list[Node], list[tuple[int, int]]]:
    """The nodes of a graph (a symbol JSON's dict, or one of a node's subgraphs at ``depth``),
    checked, in MXNet's order, with its heads ``(node, output)`` in that order."""
    if not isinstance(graph, Mapping):
        raise GraphError("not a symbol JSON: the top level is not an object")
    raw_nodes = graph.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise GraphError("not a symbol JSON: no 'nodes' list")
    attrs = graph.get("attrs", {})
    version = attrs.get("mxnet_version", ["int", 0]) if isinstance(attrs, Mapping) else None
    if not isinstance(version, list) or len(version) != 2 or not isinstance(version[1], int):
        raise GraphError("not a symbol JSON: 'attrs' must be an object with mxnet_version [\"int\", N]")
    heads = graph.get("heads")
    if not isinstance(heads, list):
        raise GraphError("not a symbol JSON: no 'heads' list")
    if not heads:
        raise GraphError("not a symbol JSON: the 'heads' list is empty (the graph has no output)")
    nodes: list[Node] = []
    for index, raw in enumerate(raw_nodes):
        if not isinstance(raw, Mapping) or "op" not in raw or "name" not in raw:
            raise GraphError(f"not a symbol JSON: node {index} has no 'op' or 'name'")
        if not isinstance(raw["name"], str) or not isinstance(raw["op"], str):
            raise GraphError(f"not a symbol JSON: node {index} has an 'op' or 'name' that is not a string")
        name = raw["name"]
        parts = [raw.get(key) for key in ("param", "attr", "attrs")]  # MXNet 0.8 wrote param and attr
        if any(part is not None and not isinstance(part, Mapping) for part in parts):
            raise GraphError(f"node '{name}': 'attrs' is not an object")
        attrs = {k: v for part in parts if part for k, v in part.items()}
        for key, value in attrs.items():
            if not isinstance(value, str):
                raise GraphError(
                    f"node '{name}': attribute {key}={json.dumps(value)} must be a string, "
                    f'as MXNet writes it ({key}="{value}")'
                )
        if "subgraphs" in raw:
            attrs = _with_subgraphs(name, attrs, raw["subgraphs"], depth)
        raw_inputs = raw.get("inputs", [])
        if not isinstance(raw_inputs, list):
            raise GraphError(f"node '{name}': 'inputs' is not a list")
        inputs = tuple(_entry(entry, nodes, f"node '{name}'") for entry in raw_inputs)
        outputs = tuple(entry[1] if len(entry) > 1 else 0 for entry in raw_inputs)
        node = Node(index, name, raw["op"], attrs, inputs, outputs[0] if outputs else 0, outputs)
        _check_crashers(node)
        nodes.append(node)
    for head in heads:
        try:
            _entry(head, nodes, "a head", "head")
        except GraphError as exc:
            raise GraphError(f"not a symbol JSON: {exc}") from None
    control = [_control_deps(raw, index, len(nodes), nodes) for index, raw in enumerate(raw_nodes)]
    _check_output_indices(nodes)
    position: dict[int, int] = {}
    nodes = _in_mxnet_order(nodes, [head[0] for head in heads], control, position)
    if depth == 0 and ((version[1] and version[1] < _V0_9_0) or not version[1]):
        nodes = _add_legacy_aux(nodes)  # the file's own graph only: MXNet upgrades no subgraph
    return nodes, [(position.get(h[0], h[0]), h[1] if len(h) > 1 else 0) for h in heads]


def _with_subgraphs(name: str, attrs: dict[str, str], raw: Any, depth: int) -> dict[str, str]:
    """A node's attributes with its subgraphs (``SubgraphAttrs``), each read and checked as a
    graph of its own (nnvm's ``JSONGraph2Symbol``).

    Raises:
        GraphError: ``node 'x': subgraph 0: <why>``, for a malformed subgraph, or subgraphs
            nested deeper than :data:`nin_mx.graph.subgraph.MAX_DEPTH`.
    """
    from nin_mx.core.ops.subgraph import SubgraphAttrs
    from nin_mx.graph.subgraph import MAX_DEPTH, Subgraph

    if not isinstance(raw, list):
        raise GraphError(f"node '{name}': 'subgraphs' is not a list of graphs")
    if raw and depth >= MAX_DEPTH:
        raise GraphError(f"node '{name}': subgraphs nested more than {MAX_DEPTH} deep")
    subgraphs = []
    for k, graph in enumerate(raw):
        try:
            subgraphs.append(Subgraph(*_checked_graph(graph, depth + 1)))
        except GraphError as exc:
            why = str(exc).removeprefix("not a symbol JSON: ")
            raise GraphError(f"node '{name}': subgraph {k}: {why}") from None
    return SubgraphAttrs(attrs, tuple(subgraphs))


_V0_9_0 = 900  # MXNET_MAKE_VERSION(0, 9, 0): files before it stored no auxiliary states


def _control_deps(raw: Mapping[str, Any], index: int, count: int, nodes: Sequence[Node]) -> tuple[int, ...]:
    """A node's control dependencies (node indices), checked: MXNet follows them like inputs."""
    deps = raw.get("control_deps", [])
    if not isinstance(deps, list) or any(isinstance(d, bool) or not isinstance(d, int) for d in deps):
        raise GraphError(f"node '{nodes[index].name}': 'control_deps' is not a list of node indices")
    for dep in deps:
        if not 0 <= dep < count:
            raise GraphError(
                f"node '{nodes[index].name}' has a control dependency on node {dep}, which does not exist"
            )
    return tuple(deps)


def _check_output_indices(nodes: Sequence[Node]) -> None:
    """Every input reads an output its producer has (MXNet reads memory it should not otherwise)."""
    from nin_mx.core.ops import op_info

    counts: dict[int, int] = {}
    for node in nodes:
        for i, k in zip(node.inputs, node.input_outputs):
            if k == 0:
                continue
            producer = nodes[i]
            if i not in counts:
                info = op_info(producer.op)
                try:
                    counts[i] = info.num_outputs(producer.attrs) if info is not None else -1
                except (GraphError, ValueError):
                    counts[i] = -1
            if 0 <= counts[i] <= k:
                raise GraphError(
                    f"node '{node.name}' reads output {k} of node '{producer.name}' ({producer.op}), "
                    f"which has {counts[i]} output{'s' if counts[i] != 1 else ''}"
                )


def _in_mxnet_order(
    nodes: list[Node],
    heads: Sequence[int],
    control: Sequence[tuple[int, ...]],
    position: dict[int, int] | None = None,
) -> list[Node]:
    """The nodes MXNet keeps, in the order it keeps them: a depth-first post-order walk from the
    heads through inputs, then control dependencies (nnvm's ``DFSVisit``), which is the order of
    ``tojson()`` and ``get_internals()``. Nodes no head depends on are dropped, as MXNet drops
    them. A cycle through control dependencies is refused. ``position`` is filled with the new
    index of each old one that moved.

    Raises:
        GraphError: naming a node on a cycle.
    """
    order: list[int] = []
    state = [0] * len(nodes)  # 0 new, 1 on the path, 2 done
    for head in heads:
        if state[head]:
            continue
        stack = [(head, 0)]
        state[head] = 1
        while stack:
            index, next_edge = stack[-1]
            edges = (*nodes[index].inputs, *control[index])
            if next_edge < len(edges):
                stack[-1] = (index, next_edge + 1)
                child = edges[next_edge]
                if state[child] == 1:
                    raise GraphError(
                        f"node '{nodes[child].name}' depends on itself through a cycle of inputs and "
                        "control dependencies"
                    )
                if state[child] == 0:
                    state[child] = 1
                    stack.append((child, 0))
                continue
            stack.pop()
            state[index] = 2
            order.append(index)
    if order == list(range(len(nodes))):
        return nodes
    if position is None:
        position = {}
    position.update((old, new) for new, old in enumerate(order))
    return [
        nodes[old]._replace(index=new, inputs=tuple(position[i] for i in nodes[old].inputs))
        for new, old in enumerate(order)
    ]


def _add_legacy_aux(nodes: list[Node]) -> list[Node]:
    """Files of MXNet before 0.9.0 stored no auxiliary states: MXNet adds them on load, as
    variables named ``<node>_<input>`` just before the node, with the node's attributes
    (``UpgradeJSON_000800_000900`` in ``src/nnvm/legacy_json_util.cc``)."""
    from nin_mx.core.ops import op_info

    out: list[Node] = []
    index_of: dict[int, int] = {}
    for node in nodes:
        info = op_info(node.op) if not node.is_variable else None
        names = info.input_names(node.attrs) if info is not None and not info.variadic else ()
        inputs = tuple(index_of[i] for i in node.inputs)
        outputs = node.input_outputs
        for name in names[len(node.inputs) :]:
            out.append(Node(len(out), f"{node.name}_{name}", "null", dict(node.attrs), (), 0, ()))
            inputs, outputs = (*inputs, len(out) - 1), (*outputs, 0)
        index_of[node.index] = len(out)
        out.append(node._replace(index=len(out), inputs=inputs, input_outputs=outputs))
    return out


def data_inputs(nodes: Sequence[Node]) -> list[str]:
    """Names of the graph's data inputs, in graph order: the variables whose shapes shape
    inference cannot know, so that a caller must give them.

    A variable is a data input when it carries no ``__shape__`` of its own (or one with an
    unknown dimension, 0), is not a learned parameter (no ``__init__``, ``__lr_mult__`` or
    ``__wd_mult__``), is not a label (``*_label``, or fed to a ``label`` slot), and every
    operator that reads it reads it as data: a slot named ``data``, ``lhs``, ``rhs``, ``rois``,
    ... (the input names of :mod:`nin_mx.core.ops`) or one of a list (``arg0``, ...), never a
    weight, bias, gamma, beta, moving statistic, or an input the operator's shape rule infers
    (anchors, ``im_info``). For an operator without a rule, its first input is taken as data.
    A variable named ``data`` (what an unnamed ``--input`` names) fed to a data slot is a data
    input whatever annotations it carries: MXNet's own ``save_000800.json`` (an MXNet 0.8 MLP)
    gives its ``data`` an ``lr_mult``.
    So anchors, offsets and learned scales (SSD's ``relu4_3_scale``) are not data inputs. A
    graph whose every such variable has a ``__shape__`` of its own gets those variables.
    """
    import re

    from nin_mx.core.attrs import parse_shape
    from nin_mx.core.ops import op_info

    data_slots = {"data", "lhs", "rhs", "args", "rois", "like", "shape_like", "trans", "x", "y", "condition"}
    listed = re.compile(r"arg\d+|data\d+")  # Concat, add_n, Crop, UpSampling, stack; _npi_concatenate
    learned = ("__init__", "__lr_mult__", "__wd_mult__", "lr_mult", "wd_mult")

    def shape_known(node: Node) -> bool:
        raw = node.attrs.get("__shape__")
        try:
            shape = parse_shape(raw) if raw is not None else None
        except (GraphError, ValueError):
            return False
        return bool(shape) and 0 not in shape  # type: ignore[operator]

    slot_is_data: dict[str, bool] = {}  # input name -> a data slot (a few names, many nodes)
    as_data: dict[int, bool] = {}  # variable index -> every operator reads it as data
    for node in nodes:
        if node.op == "null":
            continue
        for i in node.inputs:
            if nodes[i].op == "null":
                break
        else:
            continue  # no input is a variable: nothing to learn of this node
        info = op_info(node.op)
        names: tuple[str, ...] | None = None
        if info is not None and info.variadic and _claims_more_inputs(node):
            names = ()  # a list of inputs: each is read as data (the engine refuses the count)
        elif info is not None:
            try:
                names = tuple(info.input_names(node.attrs))
            except (GraphError, ValueError):
                names = None
        for slot, i in enumerate(node.inputs):
            if nodes[i].op != "null":
                continue
            if names is None:
                data = slot == 0
            elif slot < len(names):
                name = names[slot]
                data = slot_is_data.get(name)  # type: ignore[assignment]
                if data is None:
                    data = slot_is_data[name] = name in data_slots or listed.fullmatch(name) is not None
            else:
                data = bool(info and info.variadic)
            if not data or i not in as_data:
                as_data[i] = data and as_data.get(i, True)
    candidates = [
        i
        for i in sorted(as_data)
        if as_data[i]
        and not nodes[i].name.endswith("_label")
        and (nodes[i].name == "data" or not any(key in nodes[i].attrs for key in learned))
    ]
    unknown = [i for i in candidates if not shape_known(nodes[i])]
    return [nodes[i].name for i in (unknown or candidates)]


def _claims_more_inputs(node: Node) -> bool:
    """A list operator whose ``num_args`` exceeds its inputs (``num_args=2147483647`` on one
    input): its input names are not made (MXNet's inference refuses the count anyway)."""
    raw = node.attrs.get("num_args", "").strip()
    return raw.isdigit() and int(raw) > len(node.inputs) + 1


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a graph becomes nodes, shapes and rows: that
    makes hundreds of thousands of objects and no cycles, and each collection it would trigger
    walks all of them, so a 10x deeper graph would cost more than 10x (BENCHMARKS.md, e3).
    Restored as it was, also on an error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_operators(nodes: Sequence[Node]) -> None:
    """Every operator is one MXNet 1.9.1 has, and every attribute one it takes, with a value it
    reads as nin_mx does (:mod:`nin_mx.core.ops.registry`); before anything executes the graph.

    Raises:
        GraphError: naming the node, and the attribute and its value.
    """
    from nin_mx.core.ops.registry import check_node

    for node in nodes:
        for k, sub in enumerate(node.subgraphs):  # MXNet parses a subgraph before its node
            try:
                check_operators(sub.nodes)
            except GraphError as exc:
                raise GraphError(f"node '{node.name}': subgraph {k}: {exc}") from None
        if not node.is_variable:
            check_node(node.name, node.op, node.attrs)
