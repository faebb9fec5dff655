"""Reading MXNet symbol graphs: their JSON, checked, as :class:`Node` objects, and files.

:func:`parse_nodes` checks a symbol JSON for the structure nin_mx relies on and for the
values that would crash MXNet's process instead of raising; :func:`load_symbol_file` loads a
saved ``-symbol.json`` with one clear line for every way it can be wrong.
"""

from __future__ import annotations

import contextlib
import functools
import json
import operator
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from nin_mx._mxnet import mx
from nin_mx.core.errors import GraphError, one_line
from nin_mx.core.validate import Shape

__all__ = ["Node", "data_inputs", "existing_file", "load_symbol_file", "parse_nodes"]

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
    if trusted and not isinstance(symbol_json, str):
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
        attrs = raw.get("attrs") or raw.get("attr") or raw.get("param") or {}
        if not isinstance(attrs, Mapping):
            raise GraphError(f"node '{name}': 'attrs' is not an object")
        for key, value in attrs.items():
            if not isinstance(value, str):
                raise GraphError(
                    f"node '{name}': attribute {key}={json.dumps(value)} must be a string, "
                    f'as MXNet writes it ({key}="{value}")'
                )
        raw_inputs = raw.get("inputs", [])
        if not isinstance(raw_inputs, list):
            raise GraphError(f"node '{name}': 'inputs' is not a list")
        inputs = tuple(_entry(entry, nodes, f"node '{name}'") for entry in raw_inputs)
        outputs = tuple(entry[1] if len(entry) > 1 else 0 for entry in raw_inputs)
        node = Node(index, name, raw["op"], dict(attrs), inputs, outputs[0] if outputs else 0, outputs)
        _check_crashers(node)
        nodes.append(node)
    for head in heads:
        try:
            _entry(head, nodes, "a head", "head")
        except GraphError as exc:
            raise GraphError(f"not a symbol JSON: {exc}") from None
    return nodes


def data_inputs(nodes: Sequence[Node]) -> list[str]:
    """Names of the graph's data inputs: variables that are the first input of an operator.

    Weights, biases, labels and BatchNorm statistics enter operators at later positions.
    """
    first = {node.inputs[0] for node in nodes if node.op != "null" and node.inputs}
    return [nodes[i].name for i in sorted(first) if nodes[i].op == "null"]


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Collects what MXNet's C++ core writes to the process' stderr (file descriptor 2) while
    the block runs; the lines are in the yielded list afterwards. Process-wide while it lasts."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines += sink.read().decode("utf-8", "replace").splitlines()


_LOG_PREFIX = re.compile(r"^\[\d\d:\d\d:\d\d\] \S+:\d+: ")
_UPGRADE = re.compile(r"Loading symbol saved by previous version v(\S+?)\.? Attempting to upgrade")


def _load_notes(lines: Sequence[str]) -> tuple[str, ...]:
    """MXNet's log lines of a load as notes: its upgrade of an older file as one line."""
    notes = []
    for line in lines:
        text = _LOG_PREFIX.sub("", line.strip())
        upgrade = _UPGRADE.search(text)
        if upgrade:
            notes.append(f"saved by MXNet v{upgrade.group(1)}, upgraded on load")
        elif text and text != "Symbol successfully upgraded!":
            notes.append(f"MXNet: {text}")
    return tuple(notes)


def existing_file(path: str | os.PathLike[str], kind: str) -> str:
    """``path`` as a string, if it names a file that exists and is not a folder.

    Raises:
        GraphError: ``'<path>: no such file'`` or ``'<path>: is a directory, not a <kind> file'``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise GraphError(f"{path}: no such file")
    if os.path.isdir(path):
        raise GraphError(f"{path}: is a directory, not a {kind} file")
    return path


def load_symbol_file(path: str | os.PathLike[str]) -> tuple[Any, list[Node], tuple[str, ...]]:
    """Loads a saved ``-symbol.json`` and checks it before MXNet sees it.

    MXNet's own log lines while it loads the file (e.g. "Loading symbol saved by previous
    version v0.8.0 ... upgrading") are not printed: they come back as notes.

    Returns:
        ``(symbol, nodes, notes)``.

    Raises:
        GraphError: one line, for a missing path, a directory, a binary or non-JSON file,
            a JSON that is not a symbol graph, or one MXNet cannot load (an unknown operator,
            a malformed attribute).
    """
    path = existing_file(path, "-symbol.json")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise GraphError(f"{path}: cannot read: {exc.strerror}") from None
    if not raw.strip():
        raise GraphError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark from an editor is harmless
    except UnicodeDecodeError:
        hint = (
            " (a .params file holds weights; pass the -symbol.json beside it)"
            if path.endswith(".params")
            else ""
        )
        raise GraphError(f"{path}: not a symbol JSON: binary data{hint}") from None
    try:
        nodes = parse_nodes(text)
    except GraphError as exc:
        raise GraphError(f"{path}: {exc}") from None
    load_json = mx.sym.load_json  # MXNet imported first: only the load itself is captured
    try:
        with _captured_stderr() as logged:
            symbol = load_json(text)
    except mx.base.MXNetError as exc:
        detail = one_line(exc)
        culprit = _unloadable_node(json.loads(text), nodes)
        if culprit is not None and f"'{culprit.name}'" not in detail:
            detail = f"node '{culprit.name}' ({culprit.op}): {detail}"
        raise GraphError(f"{path}: MXNet cannot load it: {detail}") from None
    return symbol, nodes, _load_notes(logged)


_ALONE = {"nodes": [{"op": "null", "name": "data", "inputs": []}], "arg_nodes": [0], "heads": [[0, 0, 0]]}


def _unloadable_node(graph: Mapping[str, Any], nodes: Sequence[Node]) -> Node | None:
    """The first operator MXNet cannot load on its own (MXNet's message does not always say)."""
    version = graph.get("attrs")
    if not isinstance(version, Mapping) or "mxnet_version" not in version:
        return None  # a legacy graph: MXNet upgrades it, and logs each load
    try:
        mx.sym.load_json(json.dumps({**_ALONE, "attrs": version}))
    except mx.base.MXNetError:
        return None  # the graph's own attributes are at fault
    for node in nodes:
        if node.is_variable:
            continue
        raw = dict(graph["nodes"][node.index])
        raw["inputs"] = [[i, 0, 0] for i in range(len(node.inputs))]
        variables = [{"op": "null", "name": f"input{i}", "inputs": []} for i in range(len(node.inputs))]
        alone = {
            "nodes": [*variables, raw],
            "arg_nodes": list(range(len(variables))),
            "heads": [[len(variables), 0, 0]],
            "attrs": version,
        }
        try:
            mx.sym.load_json(json.dumps(alone))
        except mx.base.MXNetError:
            return node
    return None
